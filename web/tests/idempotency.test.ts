import { describe, expect, it } from "vitest";
import { Attempt } from "../src/lib/idempotency";

const counter = () => {
  let n = 0;
  return () => `key-${++n}`;
};

describe("one Idempotency-Key per attempt", () => {
  it("reuses the key when the same attempt is retried", () => {
    const attempt = new Attempt(counter());
    const body = { amount: 100, destination: "a@b.test" };
    expect(attempt.keyFor(body)).toBe("key-1");
    expect(attempt.keyFor({ ...body })).toBe("key-1");
  });

  it("starts a new key when the request changes", () => {
    const attempt = new Attempt(counter());
    attempt.keyFor({ amount: 100 });
    expect(attempt.keyFor({ amount: 101 })).toBe("key-2");
  });

  it("starts a new key once the attempt is answered", () => {
    const attempt = new Attempt(counter());
    const body = { amount: 100 };
    attempt.keyFor(body);
    attempt.finish();
    expect(attempt.keyFor(body)).toBe("key-2");
  });

  it("makes random UUIDs by default", () => {
    const a = new Attempt().keyFor({});
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Attempt().keyFor({})).not.toBe(a);
  });
});
