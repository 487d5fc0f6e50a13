import { describe, expect, it } from "vitest";
import { toApiError } from "../src/api/client";

describe("one error shape for both APIs", () => {
  it("reads the API's error with its field details", () => {
    const error = toApiError(400, {
      error: { code: "validation_error", message: "Invalid input.", details: { amount: ["Too big."] } },
    });
    expect([error.status, error.code, error.message]).toEqual([400, "validation_error", "Some details need correcting."]);
    expect(error.fields).toEqual({ amount: ["Too big."] });
  });

  it("reads allauth's errors, per field, in our words where we have them", () => {
    const error = toApiError(400, {
      status: 400,
      errors: [
        { code: "email_password_mismatch", message: "The email address and/or password you specified are not correct.", param: "password" },
      ],
    });
    expect(error.code).toBe("email_password_mismatch");
    expect(error.message).toBe("That e-mail and password do not match.");
    expect(error.fields).toEqual({ password: ["That e-mail and password do not match."] });
  });

  it("keeps Retry-After and never shows a raw page", () => {
    const throttled = toApiError(429, { error: { code: "throttled", message: "", details: {} } }, "30");
    expect(throttled.retryAfter).toBe(30);
    const html = toApiError(502, "<html>Bad gateway</html>");
    expect([html.code, html.message]).toEqual(["internal_error", "Something went wrong on our side. Please try again later."]);
  });
});
