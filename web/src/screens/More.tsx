/** The less frequent screens: requests, bank, verification, inbox, statements, security, profile. */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, Route, Routes, useNavigate } from "react-router-dom";
import * as authApi from "../api/auth";
import { api, call, ApiError, csrfToken, networkError, toApiError } from "../api/client";
import { useAuth } from "../auth";
import { Alert, Button, Card, Empty, Field, Loading, Page, Select } from "../components/ui";
import { Attempt } from "../lib/idempotency";
import { formatMoney, minorToJson, parseAmount, PARSE_MESSAGES } from "../lib/money";
import { useAsync } from "../lib/useAsync";
import { listWallets } from "./Wallets";

function useAction() {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const run = async (action: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setOk(null);
    try {
      const message = await action();
      if (message) setOk(message);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const banner = (
    <>
      {error && (
        <Alert>
          {error.message}
          {error.code === "mfa_required" && (
            <> <Link className="font-semibold underline" to="/security">Set it up now</Link></>
          )}
        </Alert>
      )}
      {ok && <Alert kind="success">{ok}</Alert>}
    </>
  );
  return { error, busy, run, banner };
}

/** A refusal that needs a fresh login: ask the password (or code), then retry the action. */
function ReauthPrompt({ error, onDone }: { error: ApiError | null; onDone: () => void }) {
  const [password, setPassword] = useState("");
  const action = useAction();
  if (!error || (error.code !== "reauthentication_required" && error.status !== 401)) return null;
  return (
    <Card>
      <form className="flex flex-col gap-3" onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => { await authApi.reauthenticate(password); onDone(); });
      }}>
        <p>For your security, enter your password again to continue.</p>
        {action.banner}
        <Field label="Password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} />
        <Button type="submit" busy={action.busy}>Confirm it's me</Button>
      </form>
    </Card>
  );
}

function MoreMenu() {
  const items: [string, string][] = [
    ["/request", "Request money"],
    ["/bank", "Bank: add or withdraw money"],
    ["/kyc", "Verify your identity"],
    ["/statements", "Monthly statements"],
    ["/security", "Security: two-factor and sessions"],
    ["/profile", "Profile and account"],
  ];
  return (
    <Page title="More">
      <ul className="flex flex-col gap-2">
        {items.map(([to, label]) => (
          <li key={to}>
            <Link to={to} className="block rounded-lg bg-white p-4 font-semibold ring-1 ring-slate-200 hover:ring-teal-600">{label}</Link>
          </li>
        ))}
      </ul>
    </Page>
  );
}

function RequestScreen() {
  const wallets = useAsync(listWallets);
  const list = useAsync(() => call(api.GET("/api/v1/money-requests", {})).then((r) => r.results));
  const [contact, setContact] = useState("");
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  const action = useAction();
  const wallet = wallets.data?.[0];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!wallet) return;
    void action.run(async () => {
      const parsed = parseAmount(amount, wallet.currency);
      if (!parsed.ok) throw new ApiError(400, "validation_error", PARSE_MESSAGES[parsed.error]);
      await call(api.POST("/api/v1/money-requests", {
        body: { contact, amount: minorToJson(parsed.minor), currency: wallet.currency as never, note, wallet: wallet.id },
      }));
      list.reload();
      return `You asked ${contact} for ${formatMoney(parsed.minor, wallet.currency)}.`;
    });
  };
  const answer = (id: string, verb: "accept" | "decline" | "cancel") =>
    void action.run(async () => {
      const path = `/api/v1/money-requests/{request_id}/${verb}` as const;
      await call(api.POST(path as "/api/v1/money-requests/{request_id}/decline", {
        params: { path: { request_id: id }, ...(verb === "accept" ? { header: { "Idempotency-Key": crypto.randomUUID() } } : {}) } as never,
      }));
      list.reload();
      wallets.reload();
      return verb === "accept" ? "Paid." : "Done.";
    });
  return (
    <Page title="Request money">
      {action.banner}
      <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <Field label="From (e-mail or phone)" value={contact} onChange={(e) => setContact(e.target.value)} />
        <Field label={`Amount (${wallet?.currency ?? ""})`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
        <Field label="Note (optional)" value={note} onChange={(e) => setNote(e.target.value)} />
        <Button type="submit" busy={action.busy}>Send request</Button>
      </form>
      <h2 className="text-lg font-semibold">Requests</h2>
      {list.loading && <Loading />}
      {list.data?.length === 0 && <Empty>No money requests.</Empty>}
      <ul className="flex flex-col gap-2">
        {list.data?.map((r) => (
          <li key={r.id} className="rounded-lg bg-white p-3 ring-1 ring-slate-200">
            <p>
              {r.direction === "incoming" ? `${r.requester} asks you for` : `You asked ${r.contact} for`}{" "}
              <strong>{formatMoney(r.amount, r.currency)}</strong> · {r.state}
            </p>
            {r.note && <p className="text-sm text-slate-600">{r.note}</p>}
            {r.state === "pending" && (
              <div className="mt-2 flex gap-2">
                {r.direction === "incoming" ? (
                  <>
                    <Button onClick={() => answer(r.id, "accept")}>Pay</Button>
                    <Button variant="secondary" onClick={() => answer(r.id, "decline")}>Decline</Button>
                  </>
                ) : (
                  <Button variant="secondary" onClick={() => answer(r.id, "cancel")}>Cancel request</Button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}

function BankScreen() {
  const wallets = useAsync(listWallets);
  const sources = useAsync(() => call(api.GET("/api/v1/funding-sources")).then((r) => r.results));
  const [iban, setIban] = useState("");
  const [holder, setHolder] = useState("");
  const [sourceId, setSourceId] = useState("");
  const [amount, setAmount] = useState("");
  const [direction, setDirection] = useState<"deposit" | "withdrawal">("deposit");
  const link = useAction();
  const move = useAction();
  const attempt = useRef(new Attempt());
  const wallet = wallets.data?.[0];
  const source = sourceId || sources.data?.[0]?.id || "";
  const doMove = () => {
    if (!wallet || !source) return;
    void move.run(async () => {
      const parsed = parseAmount(amount, wallet.currency);
      if (!parsed.ok) throw new ApiError(400, "validation_error", PARSE_MESSAGES[parsed.error]);
      const body = { wallet: wallet.id, funding_source: source, amount: minorToJson(parsed.minor), currency: wallet.currency as never };
      const key = attempt.current.keyFor({ direction, ...body });
      const path = direction === "deposit" ? "/api/v1/deposits" : "/api/v1/withdrawals";
      try {
        const payment = await call(api.POST(path, { body, params: { header: { "Idempotency-Key": key } } } as never));
        attempt.current.finish();
        wallets.reload();
        const p = payment as { state: string; amount: number; currency: string };
        return `${direction === "deposit" ? "Deposit" : "Withdrawal"} of ${formatMoney(p.amount, p.currency)}: ${p.state}.`;
      } catch (e) {
        if ((e as ApiError).status !== 0) attempt.current.finish();
        throw e;
      }
    });
  };
  return (
    <Page title="Bank">
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Add or withdraw money</h2>
        {move.banner}
        <ReauthPrompt error={move.error} onDone={doMove} />
        {sources.data?.length === 0 ? (
          <Empty>Link a bank account first.</Empty>
        ) : (
          <form className="flex flex-col gap-3" onSubmit={(e) => { e.preventDefault(); doMove(); }}>
            <Select label="Direction" value={direction} onChange={(e) => setDirection(e.target.value as never)}>
              <option value="deposit">Add money from my bank</option>
              <option value="withdrawal">Withdraw to my bank</option>
            </Select>
            <Select label="Bank account" value={source} onChange={(e) => setSourceId(e.target.value)}>
              {sources.data?.map((s) => (
                <option key={s.id} value={s.id}>{s.holder_name} · ••{s.iban_last4}</option>
              ))}
            </Select>
            <Field label={`Amount (${wallet?.currency ?? ""})`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
            <Button type="submit" busy={move.busy}>Continue</Button>
          </form>
        )}
      </Card>
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Link a bank account</h2>
        {link.banner}
        <form className="flex flex-col gap-3" onSubmit={(e) => {
          e.preventDefault();
          void link.run(async () => {
            await call(api.POST("/api/v1/funding-sources", { body: { iban, holder_name: holder, currency: (wallet?.currency ?? "EUR") as never } }));
            sources.reload();
            return "Bank account linked.";
          });
        }}>
          <Field label="IBAN" value={iban} onChange={(e) => setIban(e.target.value)} errors={link.error?.fields.iban} autoComplete="off" />
          <Field label="Account holder" value={holder} onChange={(e) => setHolder(e.target.value)} errors={link.error?.fields.holder_name} />
          <Button type="submit" busy={link.busy}>Link account</Button>
        </form>
      </Card>
    </Page>
  );
}

const DOCUMENT_TYPES: [string, string][] = [
  ["passport", "Passport"],
  ["national_id_front", "ID card (front)"],
  ["national_id_back", "ID card (back)"],
  ["driving_licence", "Driving licence"],
  ["proof_of_address", "Proof of address"],
  ["selfie", "Selfie"],
];

function KycScreen() {
  const status = useAsync(() => call(api.GET("/api/v1/kyc/status")) as Promise<Record<string, any>>);
  const profile = useAsync(() => call(api.GET("/api/v1/kyc/profile")).catch(() => null));
  const [form, setForm] = useState<Record<string, string>>({});
  const [docType, setDocType] = useState("passport");
  const file = useRef<HTMLInputElement>(null);
  const save = useAction();
  const upload = useAction();
  const submit = useAction();
  useEffect(() => {
    if (profile.data) setForm(Object.fromEntries(Object.entries(profile.data).map(([k, v]) => [k, String(v ?? "")])));
  }, [profile.data]);
  const field = (name: string, label: string, type = "text") => (
    <Field label={label} type={type} value={form[name] ?? ""} errors={save.error?.fields[name]}
      onChange={(e) => setForm({ ...form, [name]: e.target.value })} />
  );
  const s = status.data;
  return (
    <Page title="Verify your identity">
      {status.loading && <Loading />}
      {s && (
        <Card>
          <p>Verification level: <strong data-testid="kyc-tier">{s.tier}</strong></p>
          {s.case && <p>Current check: <strong data-testid="kyc-state">{String(s.case.state).replace(/_/g, " ")}</strong></p>}
          {s.case?.message && <p className="text-slate-700">{s.case.message}</p>}
          {s.missing_for_next_tier?.length > 0 && (
            <p className="text-sm text-slate-600">Still needed for level {s.next_tier}: {s.missing_for_next_tier.join(", ").replace(/_/g, " ")}</p>
          )}
        </Card>
      )}
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Your details</h2>
        {save.banner}
        <form className="flex flex-col gap-3" onSubmit={(e) => {
          e.preventDefault();
          void save.run(async () => {
            await call(api.PUT("/api/v1/kyc/profile", { body: { ...form, tax_id: form.tax_id || null } as never }));
            status.reload();
            return "Details saved.";
          });
        }}>
          {field("legal_first_name", "First name")}
          {field("legal_last_name", "Last name")}
          {field("date_of_birth", "Date of birth", "date")}
          {field("nationality", "Nationality (country code, e.g. DE)")}
          {field("address_line", "Address")}
          {field("postal_code", "Postal code")}
          {field("city", "City")}
          {field("country", "Country (code, e.g. DE)")}
          <Button type="submit" busy={save.busy}>Save details</Button>
        </form>
      </Card>
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Documents</h2>
        {upload.banner}
        <form className="flex flex-col gap-3" onSubmit={(e) => {
          e.preventDefault();
          const chosen = file.current?.files?.[0];
          if (!chosen) return;
          void upload.run(async () => {
            const body = new FormData();
            body.set("type", docType);
            body.set("file", chosen);
            let response: Response;
            try {
              response = await fetch("/api/v1/kyc/documents", {
                method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
              });
            } catch {
              throw networkError();
            }
            if (!response.ok) throw toApiError(response.status, await response.json().catch(() => null));
            status.reload();
            if (file.current) file.current.value = "";
            return "Document uploaded.";
          });
        }}>
          <Select label="Document" value={docType} onChange={(e) => setDocType(e.target.value)}>
            {DOCUMENT_TYPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </Select>
          <div className="flex flex-col gap-1">
            <label htmlFor="kyc-file" className="font-medium">Photo or PDF</label>
            <input id="kyc-file" ref={file} type="file" accept="image/jpeg,image/png,application/pdf" capture="environment"
              className="min-h-11" aria-describedby="kyc-file-hint" />
            <p id="kyc-file-hint" className="text-sm text-slate-600">Take a photo with your camera or choose a file.</p>
          </div>
          <Button type="submit" busy={upload.busy}>Upload</Button>
        </form>
        {s?.case?.documents?.length > 0 && (
          <ul className="mt-3 text-sm" aria-label="Uploaded documents">
            {s!.case.documents.map((d: any) => <li key={d.id}>{d.type.replace(/_/g, " ")} · {d.review}</li>)}
          </ul>
        )}
      </Card>
      {submit.banner}
      {s && s.next_tier && (
        <Button busy={submit.busy} onClick={() => void submit.run(async () => {
          await call(api.POST("/api/v1/kyc/submit", { body: { tier: s.next_tier } }));
          status.reload();
          return "Submitted for review. We will let you know.";
        })}>Submit for review</Button>
      )}
    </Page>
  );
}

export function UnreadBadge() {
  const [count, setCount] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () => call(api.GET("/api/v1/notifications/unread-count")).then((r) => alive && setCount(r.unread), () => {});
    void load();
    const timer = setInterval(load, 30_000);
    window.addEventListener("finstack:notifications", load);
    return () => { alive = false; clearInterval(timer); window.removeEventListener("finstack:notifications", load); };
  }, []);
  if (!count) return null;
  return <span className="rounded-full bg-red-700 px-2 text-xs text-white" aria-label={`${count} unread`}>{count}</span>;
}

function NotificationsScreen() {
  const list = useAsync(() => call(api.GET("/api/v1/notifications", {})).then((r) => r.results));
  const prefs = useAsync(() => call(api.GET("/api/v1/notifications/preferences")).then((r) => r.preferences));
  const action = useAction();
  const changed = () => { list.reload(); window.dispatchEvent(new Event("finstack:notifications")); };
  return (
    <Page title="Inbox">
      {action.banner}
      {list.loading && <Loading />}
      {list.data?.length === 0 && <Empty>No notifications yet.</Empty>}
      {!!list.data?.length && (
        <Button variant="secondary" onClick={() => void action.run(async () => { await call(api.POST("/api/v1/notifications/read-all")); changed(); })}>
          Mark all as read
        </Button>
      )}
      <ul className="flex flex-col gap-2" aria-label="Notifications">
        {list.data?.map((n) => (
          <li key={n.id} className={`rounded-lg bg-white p-3 ring-1 ${n.read_at ? "ring-slate-200" : "ring-teal-600"}`}>
            <p className="font-semibold">{!n.read_at && <span className="sr-only">Unread: </span>}{n.title}</p>
            <p className="text-slate-700">{n.body}</p>
            <p className="text-sm text-slate-600">{new Date(n.created_at).toLocaleString()}</p>
            {!n.read_at && (
              <button className="mt-1 min-h-11 text-teal-800 underline" onClick={() => void action.run(async () => {
                await call(api.POST("/api/v1/notifications/{notification_id}/read", { params: { path: { notification_id: n.id } } }));
                changed();
              })}>Mark as read</button>
            )}
          </li>
        ))}
      </ul>
      <h2 className="text-lg font-semibold">How we reach you</h2>
      {prefs.data && (
        <fieldset className="rounded-lg bg-white p-3 ring-1 ring-slate-200">
          <legend className="sr-only">Notification preferences</legend>
          {prefs.data.map((p) => (
            <label key={`${p.category}-${p.channel}`} className="flex min-h-11 items-center gap-3">
              <input type="checkbox" className="h-5 w-5" checked={p.enabled} disabled={p.locked}
                onChange={(e) => void action.run(async () => {
                  const saved = await call(api.PUT("/api/v1/notifications/preferences", {
                    body: { preferences: [{ category: p.category, channel: p.channel, enabled: e.target.checked }] },
                  }));
                  prefs.setData(prefs.data!.map((x) => saved.preferences.find((s) => s.category === x.category && s.channel === x.channel) ?? x));
                })} />
              {p.category} by {p.channel}{p.locked ? " (always on)" : ""}
            </label>
          ))}
        </fieldset>
      )}
    </Page>
  );
}

function StatementsScreen() {
  const wallets = useAsync(listWallets);
  const now = new Date();
  const [month, setMonth] = useState(`${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`);
  const [walletId, setWalletId] = useState("");
  const action = useAction();
  const wallet = walletId || wallets.data?.[0]?.id || "";
  const download = (format: "csv" | "pdf") => void action.run(async () => {
    const query = new URLSearchParams({ wallet, month, format });
    let response: Response;
    try {
      response = await fetch(`/api/v1/reports/statements?${query}`, { credentials: "same-origin" });
    } catch {
      throw networkError();
    }
    if (!response.ok) throw toApiError(response.status, await response.json().catch(() => null));
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `finstack-statement-${month}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  if (wallets.loading) return <Loading />;
  return (
    <Page title="Monthly statements">
      {action.banner}
      <Select label="Wallet" value={wallet} onChange={(e) => setWalletId(e.target.value)}>
        {wallets.data?.map((w) => <option key={w.id} value={w.id}>{w.name || `${w.currency} wallet`}</option>)}
      </Select>
      <Field label="Month" type="month" value={month} onChange={(e) => setMonth(e.target.value)} />
      <div className="grid grid-cols-2 gap-3">
        <Button onClick={() => download("pdf")} busy={action.busy} disabled={!wallet}>Download PDF</Button>
        <Button variant="secondary" onClick={() => download("csv")} disabled={action.busy || !wallet}>Download CSV</Button>
      </div>
    </Page>
  );
}

type AuthBody = { status: number; data?: any; meta?: any };

async function allauth(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<AuthBody> {
  let response: Response;
  try {
    response = await fetch(`/_allauth/browser/v1${path}`, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", ...(method !== "GET" ? { "X-CSRFToken": csrfToken() } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw networkError();
  }
  const json = await response.json().catch(() => ({}));
  if (response.status === 401 && json?.data?.flows?.some((f: any) => f.id === "reauthenticate")) {
    throw new ApiError(401, "reauthentication_required", "For your security, confirm it's you before doing this.");
  }
  if (!response.ok && response.status !== 404) throw toApiError(response.status, json);
  return json as AuthBody;
}

function SecurityScreen() {
  const totp = useAsync(() => allauth("GET", "/account/authenticators/totp"));
  const sessions = useAsync(() => allauth("GET", "/auth/sessions"));
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const action = useAction();
  const enabled = totp.data?.status === 200;
  const activate = () => void action.run(async () => {
    await allauth("POST", "/account/authenticators/totp", { code: code.trim() });
    const codes = await allauth("GET", "/account/authenticators/recovery-codes");
    setRecovery(codes.data?.unused_codes ?? []);
    totp.reload();
    return "Two-factor authentication is on.";
  });
  return (
    <Page title="Security">
      {action.banner}
      <ReauthPrompt error={action.error} onDone={activate} />
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Two-factor authentication</h2>
        {totp.loading && <Loading />}
        {totp.data && enabled && <p data-testid="totp-on">On: you enter a code from your authenticator app when you log in.</p>}
        {totp.data && !enabled && (
          <form className="flex flex-col gap-3" onSubmit={(e) => { e.preventDefault(); activate(); }}>
            <p>Scan this code with an authenticator app, then enter the six digits it shows.</p>
            <img src="/api/v1/me/totp-qr.png" alt="QR code for your authenticator app" width={200} height={200} className="self-center" />
            <p className="text-sm text-slate-600">
              Cannot scan? Enter this key: <code data-testid="totp-secret" className="break-all">{totp.data.meta?.secret}</code>
            </p>
            <Field label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code}
              onChange={(e) => setCode(e.target.value)} errors={action.error?.fields.code} />
            <Button type="submit" busy={action.busy}>Turn on</Button>
          </form>
        )}
        {recovery && (
          <div className="mt-3">
            <h3 className="font-semibold">Recovery codes</h3>
            <p className="text-sm">Keep these somewhere safe. Each one logs you in once if you lose your phone.</p>
            <ul className="mt-1 grid grid-cols-2 gap-1 font-mono" aria-label="Recovery codes">
              {recovery.map((c) => <li key={c}>{c}</li>)}
            </ul>
          </div>
        )}
      </Card>
      <Card>
        <h2 className="mb-2 text-lg font-semibold">Where you are logged in</h2>
        {sessions.loading && <Loading />}
        <ul className="flex flex-col gap-2" aria-label="Sessions">
          {(sessions.data?.data ?? []).map((s: any) => (
            <li key={s.id} className="flex items-center justify-between gap-2">
              <span>
                {s.user_agent || "Unknown device"} · {s.ip}
                {s.is_current ? " (this device)" : ""}
              </span>
              {!s.is_current && (
                <Button variant="secondary" onClick={() => void action.run(async () => {
                  await allauth("DELETE", "/auth/sessions", { sessions: [s.id] });
                  sessions.reload();
                  return "That session is logged out.";
                })}>Log out</Button>
              )}
            </li>
          ))}
        </ul>
      </Card>
    </Page>
  );
}

function ProfileScreen() {
  const me = useAsync(() => call(api.GET("/api/v1/me")));
  const { setState } = useAuth();
  const navigate = useNavigate();
  const [form, setForm] = useState<Record<string, string>>({});
  const [closing, setClosing] = useState(false);
  const save = useAction();
  const close = useAction();
  useEffect(() => {
    if (me.data) setForm({ first_name: me.data.first_name, last_name: me.data.last_name, phone: me.data.phone });
  }, [me.data]);
  const doClose = () => void close.run(async () => {
    await call(api.POST("/api/v1/me/close"));
    setState({ kind: "anonymous" });
    navigate("/login");
  });
  if (me.loading) return <Loading />;
  return (
    <Page title="Profile">
      {save.banner}
      <form className="flex flex-col gap-3" onSubmit={(e) => {
        e.preventDefault();
        void save.run(async () => { me.setData(await call(api.PATCH("/api/v1/me", { body: form }))); return "Saved."; });
      }}>
        <p>E-mail: <strong>{me.data?.email}</strong></p>
        <Field label="First name" value={form.first_name ?? ""} onChange={(e) => setForm({ ...form, first_name: e.target.value })} errors={save.error?.fields.first_name} />
        <Field label="Last name" value={form.last_name ?? ""} onChange={(e) => setForm({ ...form, last_name: e.target.value })} errors={save.error?.fields.last_name} />
        <Field label="Phone (+country code)" type="tel" value={form.phone ?? ""} onChange={(e) => setForm({ ...form, phone: e.target.value })} errors={save.error?.fields.phone} />
        <Button type="submit" busy={save.busy}>Save</Button>
      </form>
      <Card className="ring-red-200">
        <h2 className="text-lg font-semibold">Close your account</h2>
        {close.banner}
        <ReauthPrompt error={close.error} onDone={doClose} />
        {closing ? (
          <div className="mt-2 flex flex-col gap-2">
            <p>Your wallets must be empty. This cannot be undone.</p>
            <div className="grid grid-cols-2 gap-3">
              <Button variant="secondary" onClick={() => setClosing(false)}>Keep my account</Button>
              <Button variant="danger" busy={close.busy} onClick={doClose}>Close account</Button>
            </div>
          </div>
        ) : (
          <Button variant="secondary" className="mt-2" onClick={() => setClosing(true)}>Close my account…</Button>
        )}
      </Card>
    </Page>
  );
}

function NotFound(): ReactNode {
  return <Page title="Not found"><Link className="underline" to="/">Back to your wallets</Link></Page>;
}

export default function More() {
  return (
    <Routes>
      <Route path="more" element={<MoreMenu />} />
      <Route path="request" element={<RequestScreen />} />
      <Route path="bank" element={<BankScreen />} />
      <Route path="kyc" element={<KycScreen />} />
      <Route path="notifications" element={<NotificationsScreen />} />
      <Route path="statements" element={<StatementsScreen />} />
      <Route path="security" element={<SecurityScreen />} />
      <Route path="profile" element={<ProfileScreen />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
