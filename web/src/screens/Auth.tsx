import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import * as authApi from "../api/auth";
import { ApiError } from "../api/client";
import { useAuth } from "../auth";
import { Alert, Button, Card, Field } from "../components/ui";
import type { AuthState } from "../api/auth";

function useAuthForm() {
  const { setState } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (action: () => Promise<AuthState>) => {
    setBusy(true);
    setError(null);
    try {
      const state = await action();
      setState(state);
      if (state.kind === "authenticated") navigate("/", { replace: true });
      else if (state.kind === "verify_email") navigate("/verify");
      else if (state.kind === "mfa") navigate("/2fa");
      else setError(new ApiError(401, "not_authenticated", "Please log in to continue."));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

function AuthShell({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center gap-4 p-4">
      <p className="text-center text-3xl font-black text-teal-800">Finstack</p>
      <Card>
        <h1 className="mb-4 text-xl font-bold">{title}</h1>
        {children}
      </Card>
    </main>
  );
}

export function LoginScreen() {
  const { error, busy, submit } = useAuthForm();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(() => authApi.login(email, password));
  };
  return (
    <AuthShell title="Log in">
      <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
        {error && <Alert>{error.message}</Alert>}
        <Field label="E-mail" type="email" autoComplete="email" required value={email}
          onChange={(e) => setEmail(e.target.value)} errors={error?.fields.email} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} errors={error?.fields.password} />
        <Button type="submit" busy={busy}>Log in</Button>
        <p className="text-center">
          New to Finstack? <Link className="font-semibold text-teal-800 underline" to="/signup">Create an account</Link>
        </p>
      </form>
    </AuthShell>
  );
}

export function SignupScreen() {
  const { error, busy, submit } = useAuthForm();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(() => authApi.signup(email, password));
  };
  return (
    <AuthShell title="Create your account">
      <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
        {error && <Alert>{error.message}</Alert>}
        <Field label="E-mail" type="email" autoComplete="email" required value={email}
          onChange={(e) => setEmail(e.target.value)} errors={error?.fields.email} />
        <Field label="Password" type="password" autoComplete="new-password" required value={password}
          hint="At least 10 characters." onChange={(e) => setPassword(e.target.value)}
          errors={error?.fields.password} />
        <Button type="submit" busy={busy}>Create account</Button>
        <p className="text-center">
          Already have an account? <Link className="font-semibold text-teal-800 underline" to="/login">Log in</Link>
        </p>
      </form>
    </AuthShell>
  );
}

export function VerifyEmailScreen() {
  const { error, busy, submit } = useAuthForm();
  const [code, setCode] = useState("");
  const [resent, setResent] = useState(false);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(() => authApi.verifyEmail(code.trim()));
  };
  return (
    <AuthShell title="Check your e-mail">
      <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
        <p>We sent you a six-digit code. Enter it to confirm your e-mail address.</p>
        {error && <Alert>{error.message}</Alert>}
        {resent && <Alert kind="success">A new code is on its way.</Alert>}
        <Field label="Code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]*" maxLength={6}
          required value={code} onChange={(e) => setCode(e.target.value)} errors={error?.fields.key} />
        <Button type="submit" busy={busy}>Confirm</Button>
        <Button type="button" variant="secondary"
          onClick={() => authApi.resendVerification().then(() => setResent(true), () => setResent(true))}>
          Send a new code
        </Button>
      </form>
    </AuthShell>
  );
}

export function TwoFactorScreen() {
  const { error, busy, submit } = useAuthForm();
  const [code, setCode] = useState("");
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(() => authApi.mfaAuthenticate(code.trim()));
  };
  return (
    <AuthShell title="Two-factor authentication">
      <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
        <p>Enter the code from your authenticator app, or one of your recovery codes.</p>
        {error && <Alert>{error.message}</Alert>}
        <Field label="Authentication code" autoComplete="one-time-code" required value={code}
          onChange={(e) => setCode(e.target.value)} errors={error?.fields.code} />
        <Button type="submit" busy={busy}>Continue</Button>
        <Link className="text-center text-teal-800 underline" to="/login">Back to log in</Link>
      </form>
    </AuthShell>
  );
}
