import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, call, ApiError } from "../api/client";
import { Alert, Button, Card, Field, Loading, Page, Select } from "../components/ui";
import { Attempt } from "../lib/idempotency";
import { formatMoney, minorToJson, parseAmount, PARSE_MESSAGES } from "../lib/money";
import { useAsync } from "../lib/useAsync";
import { listWallets } from "./Wallets";

type Draft = { source_wallet: string; destination: string; amount: number; currency: string; note: string };

export function SendScreen() {
  const wallets = useAsync(listWallets);
  const [walletId, setWalletId] = useState("");
  const [destination, setDestination] = useState("");
  const [amountText, setAmountText] = useState("");
  const [note, setNote] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<{ draft: Draft; name: string } | null>(null);
  const [done, setDone] = useState<{ amount: number; currency: string; name: string; status: string } | null>(null);
  const attempt = useRef(new Attempt());
  const inFlight = useRef<Promise<void> | null>(null);

  const wallet = wallets.data?.find((w) => w.id === (walletId || wallets.data?.[0]?.id));

  const review = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!wallet) return;
    const parsed = parseAmount(amountText, wallet.currency);
    const errors: Record<string, string[]> = {};
    if (!parsed.ok) errors.amount = [PARSE_MESSAGES[parsed.error]];
    if (!destination.trim()) errors.destination = ["Enter an e-mail address or a phone number."];
    setFieldErrors(errors);
    if (!parsed.ok || errors.destination) return;
    setBusy(true);
    try {
      const recipient = await call(
        api.GET("/api/v1/recipients", { params: { query: { destination: destination.trim(), currency: wallet.currency as never } } }),
      );
      setConfirm({
        name: recipient.display_name,
        draft: {
          source_wallet: wallet.id,
          destination: destination.trim(),
          amount: minorToJson(parsed.minor),
          currency: wallet.currency,
          note,
        },
      });
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };

  const send = () => {
    if (!confirm) return;
    if (inFlight.current) return; // a double tap joins the attempt already on its way
    const { draft, name } = confirm;
    const key = attempt.current.keyFor(draft);
    setBusy(true);
    setError(null);
    inFlight.current = (async () => {
      try {
        const transfer = await call(
          api.POST("/api/v1/transfers", {
            body: { ...draft, currency: draft.currency as never },
            params: { header: { "Idempotency-Key": key } },
          }),
        );
        attempt.current.finish();
        setDone({ amount: transfer.amount, currency: transfer.currency, name, status: transfer.status });
        setConfirm(null);
        setAmountText("");
        setNote("");
        wallets.reload();
      } catch (err) {
        const apiError = err as ApiError;
        // No answer (status 0): the same attempt may be retried with the same key.
        if (apiError.status !== 0) {
          attempt.current.finish();
          setConfirm(null);
        }
        setError(apiError);
      } finally {
        inFlight.current = null;
        setBusy(false);
      }
    })();
  };

  if (wallets.loading) return <Loading />;
  if (wallets.error) return <Alert>{wallets.error.message}</Alert>;

  return (
    <Page title="Send money">
      {done && (
        <Alert kind="success">
          {done.status === "review"
            ? `${formatMoney(done.amount, done.currency)} to ${done.name} is being reviewed. The money is reserved until then.`
            : `You sent ${formatMoney(done.amount, done.currency)} to ${done.name}.`}{" "}
          <Link className="underline" to="/">Back to wallets</Link>
        </Alert>
      )}
      {error && (
        <Alert>
          {error.message}
          {error.status === 0 && confirm && " Your payment will not be sent twice if you try again."}
        </Alert>
      )}
      {confirm ? (
        <Card>
          <h2 className="text-lg font-semibold">Confirm</h2>
          <p className="mt-2">
            Send <strong>{formatMoney(confirm.draft.amount, confirm.draft.currency)}</strong> to{" "}
            <strong data-testid="recipient-name">{confirm.name}</strong> ({confirm.draft.destination})?
          </p>
          {confirm.draft.note && <p className="text-slate-600">Note: {confirm.draft.note}</p>}
          <div className="mt-4 grid grid-cols-2 gap-3">
            <Button variant="secondary" onClick={() => setConfirm(null)} disabled={busy}>Change</Button>
            <Button onClick={send} busy={busy}>{error?.status === 0 ? "Try again" : "Send"}</Button>
          </div>
        </Card>
      ) : (
        <form onSubmit={review} className="flex flex-col gap-4" noValidate>
          {wallets.data && wallets.data.length > 1 && (
            <Select label="From" value={wallet?.id} onChange={(e) => setWalletId(e.target.value)}>
              {wallets.data.map((w) => (
                <option key={w.id} value={w.id}>
                  {(w.name || `${w.currency} wallet`) + " · " + formatMoney(w.balance.available, w.currency)}
                </option>
              ))}
            </Select>
          )}
          {wallet && (
            <p className="text-slate-600">Available: {formatMoney(wallet.balance.available, wallet.currency)}</p>
          )}
          <Field label="To (e-mail or phone)" autoComplete="off" value={destination}
            onChange={(e) => setDestination(e.target.value)} errors={fieldErrors.destination}
            hint="A phone number starts with + and the country code." />
          <Field label={`Amount (${wallet?.currency ?? ""})`} inputMode="decimal" value={amountText}
            onChange={(e) => setAmountText(e.target.value)} errors={fieldErrors.amount} />
          <Field label="Note (optional)" maxLength={200} value={note} onChange={(e) => setNote(e.target.value)} />
          <Button type="submit" busy={busy}>Continue</Button>
        </form>
      )}
    </Page>
  );
}
