import { describe, expect, it } from "vitest";
import { ERROR_MESSAGES, messageFor } from "../src/lib/errors";
import { schemaErrorCodes } from "./codes";

describe("the error table", () => {
  it("has a message for every error code in docs/openapi.yaml", () => {
    const codes = schemaErrorCodes();
    expect(codes.size).toBeGreaterThan(50);
    const missing = [...codes].filter((code) => !(code in ERROR_MESSAGES)).sort();
    expect(missing).toEqual([]);
  });

  it("has no message for a code the API no longer sends", () => {
    const codes = schemaErrorCodes();
    expect(Object.keys(ERROR_MESSAGES).filter((code) => !codes.has(code))).toEqual([]);
  });

  it("words each message for a person", () => {
    for (const [code, message] of Object.entries(ERROR_MESSAGES)) {
      expect(message, code).toMatch(/^[A-Z].*[.!?]$/);
      expect(message, code).not.toMatch(/_/);
    }
  });

  it("falls back to the server's message, then a generic one", () => {
    expect(messageFor("insufficient_funds", "x")).toBe("You do not have enough money available for this.");
    expect(messageFor("brand_new_code", "Server words.")).toBe("Server words.");
    expect(messageFor("brand_new_code")).toBe(ERROR_MESSAGES.internal_error);
  });
});
