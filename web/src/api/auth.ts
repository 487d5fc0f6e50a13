/**
 * allauth headless, browser client: the session cookie is the login, every unsafe call sends
 * the CSRF token. A 401 carries the flows still pending (verify the e-mail, enter a 2FA code).
 */
import { api, ApiError, call, networkError, toApiError } from "./client";

export type AuthState =
  | { kind: "anonymous" }
  | { kind: "verify_email"; email?: string }
  | { kind: "mfa" }
  | { kind: "authenticated"; email: string; userId: number | string };

type Flow = { id: string; is_pending?: boolean };

function stateFrom(status: number, body: any): AuthState | null {
  if (status === 200 && body?.meta?.is_authenticated) {
    return { kind: "authenticated", email: body.data?.user?.email ?? "", userId: body.data?.user?.id };
  }
  if (status === 401) {
    const flows: Flow[] = body?.data?.flows ?? [];
    const pending = flows.find((f) => f.is_pending);
    if (pending?.id === "verify_email") return { kind: "verify_email" };
    if (pending?.id === "mfa_authenticate") return { kind: "mfa" };
    return { kind: "anonymous" };
  }
  if (status === 410) return { kind: "anonymous" }; // the session ended
  return null;
}

async function auth(promise: Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  let result;
  try {
    result = await promise;
  } catch {
    throw networkError();
  }
  const body = result.data ?? result.error;
  const state = stateFrom(result.response.status, body);
  if (state) return state;
  throw toApiError(result.response.status, body, result.response.headers.get("Retry-After"));
}

export const session = () => auth(api.GET("/_allauth/browser/v1/auth/session"));

export const login = (email: string, password: string) =>
  auth(api.POST("/_allauth/browser/v1/auth/login", { body: { email, password } }));

export const signup = (email: string, password: string) =>
  auth(api.POST("/_allauth/browser/v1/auth/signup", { body: { email, password } }));

export const verifyEmail = (key: string) =>
  auth(api.POST("/_allauth/browser/v1/auth/email/verify", { body: { key } }));

export const resendVerification = () =>
  auth(api.POST("/_allauth/browser/v1/auth/email/verify/resend"));

export const mfaAuthenticate = (code: string) =>
  auth(api.POST("/_allauth/browser/v1/auth/2fa/authenticate", { body: { code } }));

export const reauthenticate = (password: string) =>
  auth(api.POST("/_allauth/browser/v1/auth/reauthenticate", { body: { password } }));

export async function logout(): Promise<void> {
  try {
    await api.DELETE("/_allauth/browser/v1/auth/session");
  } catch {
    throw networkError();
  }
}

export { ApiError, call };
