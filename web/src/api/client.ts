import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { AUTH_MESSAGES, NETWORK_MESSAGE, messageFor } from "../lib/errors";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]!) : "";
}

// The session cookie authenticates; Django's CSRF check wants the cookie's token echoed.
const csrf: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method)) request.headers.set("X-CSRFToken", csrfToken());
    return request;
  },
};

export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  credentials: "same-origin",
  fetch: (request) => globalThis.fetch(request), // looked up per call (tests stub it)
});
api.use(csrf);

/** An answer that was not a success, in one shape whichever part of the API gave it. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly fields: Record<string, string[]> = {},
    public readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export function networkError(): ApiError {
  return new ApiError(0, "network", NETWORK_MESSAGE);
}

function fieldMessages(details: unknown): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  if (details && typeof details === "object") {
    for (const [name, value] of Object.entries(details as Record<string, unknown>)) {
      if (Array.isArray(value)) fields[name] = value.map(String);
      else if (typeof value === "string") fields[name] = [value];
    }
  }
  return fields;
}

/** Turns `{"error": {...}}` (the API) or `{"errors": [...]}` (allauth) into an ApiError. */
export function toApiError(status: number, body: unknown, retryAfter: string | null = null): ApiError {
  const retry = retryAfter ? Number.parseInt(retryAfter, 10) : null;
  const record = (body ?? {}) as Record<string, any>;
  if (record.error && typeof record.error.code === "string") {
    const { code, message, details } = record.error;
    return new ApiError(status, code, messageFor(code, message), fieldMessages(details), retry);
  }
  if (Array.isArray(record.errors) && record.errors.length) {
    const fields: Record<string, string[]> = {};
    for (const e of record.errors) {
      const text = AUTH_MESSAGES[e.code] ?? e.message;
      if (e.param) (fields[e.param] ??= []).push(text);
    }
    const first = record.errors[0];
    return new ApiError(status, first.code, AUTH_MESSAGES[first.code] ?? first.message, fields, retry);
  }
  return new ApiError(status, "internal_error", messageFor("internal_error"), {}, retry);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful call, or throws an ApiError (also for a lost connection). */
export async function call<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request;
  } catch {
    throw networkError();
  }
  const { response } = result;
  if (!response.ok) {
    throw toApiError(response.status, result.error, response.headers.get("Retry-After"));
  }
  return result.data as T;
}
