/**
 * Money is integer minor units plus an ISO 4217 code, end to end: amounts typed by the user are
 * parsed exactly from their string into minor units (bigint), never through a float.
 */

// ISO 4217 minor-unit exponents other than 2 (the API's table in apps.core.money).
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

// The API's largest amount (apps.core.api.fields.MinorUnitsField max_value).
export const MAX_MINOR = 10n ** 15n;

export function exponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** "1234.50" for (123450, EUR): the exact decimal string, no locale. */
export function toDecimalString(minor: bigint | number, currency: string): string {
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const exp = exponent(currency);
  if (exp === 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(exp + 1, "0");
  const whole = padded.slice(0, -exp);
  const fraction = padded.slice(-exp);
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** "€1,234.50" (en) or "1.234,50 €" (de): Intl formats the exact decimal string. */
export function formatMoney(
  minor: bigint | number,
  currency: string,
  locale: string | undefined = undefined,
): string {
  const exp = exponent(currency);
  const formatter = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: exp,
    maximumFractionDigits: exp,
  });
  // A string keeps every digit (Intl.NumberFormat v3); a Number would round above 2^53.
  return formatter.format(toDecimalString(minor, currency) as unknown as number);
}

export type ParseResult =
  | { ok: true; minor: bigint }
  | { ok: false; error: "empty" | "invalid" | "too_many_decimals" | "zero" | "too_large" };

/**
 * Parses what a customer types: "12", "12.5", "12,50", "1,234.56", "1.234,56", "1 234,56".
 * With both separators the last one is the decimal point; a lone separator used once is the
 * decimal point, used several times it groups thousands.
 */
export function parseAmount(input: string, currency: string): ParseResult {
  let text = input.replace(/[\s\u00a0\u202f'’]/g, "");
  if (!text) return { ok: false, error: "empty" };
  if (!/^[0-9.,]+$/.test(text)) return { ok: false, error: "invalid" };
  const lastDot = text.lastIndexOf(".");
  const lastComma = text.lastIndexOf(",");
  let decimal: string | null = null;
  if (lastDot >= 0 && lastComma >= 0) {
    decimal = lastDot > lastComma ? "." : ",";
  } else if (lastDot >= 0 || lastComma >= 0) {
    const sep = lastDot >= 0 ? "." : ",";
    decimal = text.split(sep).length === 2 ? sep : null;
  }
  const group = decimal === "." ? "," : decimal === "," ? "." : lastDot >= 0 ? "." : lastComma >= 0 ? "," : null;
  const [grouped = "", fraction = "", ...rest] = decimal ? text.split(decimal) : [text];
  if (rest.length || !grouped || (decimal && !fraction) || /[.,]/.test(fraction)) {
    return { ok: false, error: "invalid" };
  }
  // Thousands groups are three digits each: "1,234" yes, "12,3456" or "1,23" no.
  const groups = group ? grouped.split(group) : [grouped];
  if (groups.length > 1 && !/^\d{1,3}$/.test(groups[0]!)) return { ok: false, error: "invalid" };
  if (groups.slice(1).some((g) => !/^\d{3}$/.test(g))) return { ok: false, error: "invalid" };
  const whole = groups.join("");
  if (/[.,]/.test(whole)) return { ok: false, error: "invalid" };
  const exp = exponent(currency);
  if (fraction.length > exp) return { ok: false, error: "too_many_decimals" };
  const minor = BigInt((whole || "0") + fraction.padEnd(exp, "0"));
  if (minor === 0n) return { ok: false, error: "zero" };
  if (minor > MAX_MINOR) return { ok: false, error: "too_large" };
  return { ok: true, minor };
}

export const PARSE_MESSAGES: Record<Exclude<ParseResult, { ok: true }>["error"], string> = {
  empty: "Enter an amount.",
  invalid: "Enter an amount like 12.50.",
  too_many_decimals: "That currency has fewer decimal places.",
  zero: "Enter an amount above zero.",
  too_large: "That amount is too large.",
};

/** The API's JSON number for an amount already bounded by MAX_MINOR (< 2^53, exact). */
export function minorToJson(minor: bigint): number {
  if (minor > MAX_MINOR || minor < -MAX_MINOR) throw new RangeError("amount out of range");
  return Number(minor);
}
