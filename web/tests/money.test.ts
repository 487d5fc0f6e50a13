import { describe, expect, it } from "vitest";
import { exponent, formatMoney, minorToJson, parseAmount, toDecimalString } from "../src/lib/money";

describe("parseAmount", () => {
  it.each([
    ["12", "EUR", 1200n],
    ["12.5", "EUR", 1250n],
    ["12,50", "EUR", 1250n],
    ["0.01", "EUR", 1n],
    ["1,234.56", "EUR", 123456n],
    ["1.234,56", "EUR", 123456n],
    ["1 234,56", "EUR", 123456n],
    ["1,234,567", "EUR", 123456700n],
    ["1.234.567", "EUR", 123456700n],
    ["1500", "JPY", 1500n],
    ["1.234", "KWD", 1234n],
    ["0.1", "EUR", 10n],
    ["0.29", "EUR", 29n], // 0.29 * 100 is 28.999999999999996 as a float
    ["9999999999999.99", "EUR", 999999999999999n],
    ["10000000000000", "EUR", 10n ** 15n],
    [" 7 ", "EUR", 700n],
  ])("%s %s is %s minor units", (input, currency, minor) => {
    expect(parseAmount(input, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["abc", "invalid"],
    ["-5", "invalid"],
    ["1e3", "invalid"],
    ["12.", "invalid"],
    [".", "invalid"],
    ["1.2.3,4", "invalid"],
    ["12.345", "too_many_decimals"],
    ["0", "zero"],
    ["0,00", "zero"],
    ["10000000000000.01", "too_large"],
    ["12,3456,78", "invalid"],
    ["1,23.45", "invalid"],
  ])("%j is refused (%s)", (input, error) => {
    expect(parseAmount(input, "EUR")).toEqual({ ok: false, error });
  });

  it("refuses decimals a currency does not have", () => {
    expect(parseAmount("10.5", "JPY")).toEqual({ ok: false, error: "too_many_decimals" });
  });
});

describe("formatting from minor units", () => {
  it("writes the exact decimal", () => {
    expect(toDecimalString(123450n, "EUR")).toBe("1234.50");
    expect(toDecimalString(5, "EUR")).toBe("0.05");
    expect(toDecimalString(-5, "EUR")).toBe("-0.05");
    expect(toDecimalString(1500, "JPY")).toBe("1500");
    expect(toDecimalString(1234, "KWD")).toBe("1.234");
    expect(toDecimalString(999999999999999n, "EUR")).toBe("9999999999999.99");
  });

  it("formats per currency and locale", () => {
    expect(formatMoney(123450, "EUR", "en-US")).toBe("€1,234.50");
    expect(formatMoney(123450, "EUR", "de-DE")).toBe("1.234,50\u00a0€");
    expect(formatMoney(1500, "JPY", "en-US")).toBe("¥1,500");
    expect(formatMoney(1234, "KWD", "en-US")).toBe("KWD\u00a01.234");
    expect(formatMoney(999999999999999n, "EUR", "en-US")).toBe("€9,999,999,999,999.99");
  });

  it("round-trips what it parses", () => {
    for (const minor of [1n, 99n, 100n, 123456n, 999999999999999n]) {
      const parsed = parseAmount(toDecimalString(minor, "EUR"), "EUR");
      expect(parsed).toEqual({ ok: true, minor });
    }
  });

  it("knows the exponents", () => {
    expect([exponent("EUR"), exponent("JPY"), exponent("KWD"), exponent("CLF")]).toEqual([2, 0, 3, 4]);
  });

  it("sends JSON numbers only within the API's range", () => {
    expect(minorToJson(1050n)).toBe(1050);
    expect(() => minorToJson(10n ** 16n)).toThrow(RangeError);
  });
});
