import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, call, ApiError } from "../api/client";
import type { components } from "../api/schema";
import { Alert, Button, Card, Empty, Field, Loading, Page, Select } from "../components/ui";
import { formatMoney } from "../lib/money";
import { useAsync } from "../lib/useAsync";

export type Wallet = components["schemas"]["Wallet"];
type HistoryItem = components["schemas"]["WalletTransactionsItem"];

export const listWallets = () =>
  call(api.GET("/api/v1/wallets", { params: { query: { status: "active" } } })).then((p) => p.results);

export function WalletsScreen() {
  const { data, error, loading, reload } = useAsync(listWallets);
  // A new account's wallet is opened right after sign-up, by a background job.
  const [waited, setWaited] = useState(0);
  useEffect(() => {
    if (data?.length !== 0 || waited >= 20) return;
    const timer = setTimeout(() => { setWaited((n) => n + 1); reload(); }, 1000);
    return () => clearTimeout(timer);
  }, [data, waited, reload]);
  return (
    <Page title="Your wallets">
      {loading && <Loading />}
      {error && <Alert>{error.message}</Alert>}
      {data && data.length === 0 && (
        <Empty>{waited < 20 ? "Your wallet is being opened…" : "You have no wallet yet."}</Empty>
      )}
      <ul className="flex flex-col gap-3" aria-label="Wallets">
        {data?.map((w) => (
          <li key={w.id}>
            <Link to={`/wallets/${w.id}`} className="block rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-teal-600">
              <div className="flex items-baseline justify-between gap-2">
                <span className="font-semibold">{w.name || `${w.currency} wallet`}{w.is_shared ? " (shared)" : ""}</span>
                <span className="text-sm text-slate-600">{w.currency}</span>
              </div>
              <p className="mt-2 text-2xl font-bold" data-testid="available">
                {formatMoney(w.balance.available, w.currency)}
              </p>
              <p className="text-sm text-slate-600">available</p>
              {w.balance.available !== w.balance.posted && (
                <p className="text-sm text-slate-600">
                  {formatMoney(w.balance.posted, w.currency)} booked · {formatMoney(w.balance.pending, w.currency)} on hold
                </p>
              )}
            </Link>
          </li>
        ))}
      </ul>
      <div className="grid grid-cols-2 gap-3">
        <Link to="/send" className="rounded-lg bg-teal-700 px-4 py-3 text-center font-semibold text-white">Send money</Link>
        <Link to="/request" className="rounded-lg border border-slate-300 bg-white px-4 py-3 text-center font-semibold">Request money</Link>
      </div>
    </Page>
  );
}

const KINDS: [string, string][] = [
  ["", "Everything"],
  ["p2p", "Transfers"],
  ["deposit", "Deposits"],
  ["withdrawal", "Withdrawals"],
  ["fee", "Fees"],
];

function Balance({ walletId }: { walletId: string }) {
  const { data, error } = useAsync(
    () => call(api.GET("/api/v1/wallets/{wallet_id}/balance", { params: { path: { wallet_id: walletId } } })),
    [walletId],
  );
  if (error) return <Alert>{error.message}</Alert>;
  if (!data) return <Loading label="Loading balance…" />;
  const held = (data.available ?? data.posted) - data.posted;
  return (
    <Card>
      <dl className="grid grid-cols-2 gap-2">
        <dt className="text-slate-600">Available</dt>
        <dd className="text-right text-xl font-bold" data-testid="balance-available">
          {formatMoney(data.available ?? data.posted, data.currency)}
        </dd>
        <dt className="text-slate-600">Booked</dt>
        <dd className="text-right">{formatMoney(data.posted, data.currency)}</dd>
      </dl>
      {data.holds && data.holds.length > 0 && (
        <div className="mt-3">
          <h2 className="font-semibold">Money on hold ({formatMoney(-held, data.currency)})</h2>
          <p className="text-sm text-slate-600">
            Reserved for payments that are on their way or under review. It is released if they do not go through.
          </p>
          <ul className="mt-1 text-sm">
            {data.holds.map((h) => (
              <li key={h.id}>
                {formatMoney(h.amount, data.currency)} · {h.kind}
                {h.expires_at ? ` · until ${new Date(h.expires_at).toLocaleString()}` : ""}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}

export function WalletScreen() {
  const { walletId = "" } = useParams();
  const [kind, setKind] = useState("");
  const [since, setSince] = useState("");
  const [items, setItems] = useState<HistoryItem[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined); // undefined: first page
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const sentinel = useRef<HTMLLIElement>(null);
  const loadingRef = useRef(false);

  const loadPage = useCallback(
    async (cursor: string | null | undefined, reset: boolean) => {
      if (loadingRef.current) return;
      loadingRef.current = true;
      setLoading(true);
      setError(null);
      try {
        const page = await call(
          api.GET("/api/v1/wallets/{wallet_id}/transactions", {
            params: {
              path: { wallet_id: walletId },
              query: {
                page_size: 25,
                ...(cursor ? { cursor } : {}),
                ...(kind ? { kind: [kind] } : {}),
                ...(since ? { since: new Date(`${since}T00:00:00`).toISOString() } : {}),
              },
            },
          }),
        );
        setItems((old) => (reset ? page.results : [...old, ...page.results]));
        setNext(page.next ? new URL(page.next, location.origin).searchParams.get("cursor") : null);
      } catch (e) {
        setError(e as ApiError);
      } finally {
        loadingRef.current = false;
        setLoading(false);
      }
    },
    [walletId, kind, since],
  );

  useEffect(() => {
    setItems([]);
    setNext(undefined);
    void loadPage(undefined, true);
  }, [loadPage]);

  useEffect(() => {
    const node = sentinel.current;
    if (!node || !next) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadPage(next, false);
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [next, loadPage]);

  return (
    <Page title="Wallet">
      <Balance walletId={walletId} />
      <form className="grid grid-cols-2 gap-3" onSubmit={(e) => e.preventDefault()} aria-label="Filter history">
        <Select label="Show" value={kind} onChange={(e) => setKind(e.target.value)}>
          {KINDS.map(([value, label]) => (
            <option key={value} value={value}>{label}</option>
          ))}
        </Select>
        <Field label="Since" type="date" value={since} onChange={(e) => setSince(e.target.value)} />
      </form>
      <h2 className="text-lg font-semibold">History</h2>
      {error && <Alert>{error.message}</Alert>}
      {!loading && !error && items.length === 0 && <Empty>No transactions yet.</Empty>}
      <ul className="flex flex-col divide-y divide-slate-200 rounded-xl bg-white ring-1 ring-slate-200" aria-label="Transactions">
        {items.map((item) => (
          <li key={item.id} className="flex items-center justify-between gap-3 p-3">
            <div>
              <p className="font-medium">{item.counterparty || item.kind}</p>
              <p className="text-sm text-slate-600">
                {new Date(item.posted_at).toLocaleString()}
                {item.note ? ` · ${item.note}` : ""}
                {item.status !== "posted" ? ` · ${item.status}` : ""}
              </p>
            </div>
            <p className={`font-semibold ${item.direction === "in" ? "text-green-800" : ""}`}>
              {item.direction === "in" ? "+" : "−"}
              {formatMoney(item.amount, item.currency)}
            </p>
          </li>
        ))}
        {next && <li ref={sentinel} aria-hidden="true" className="h-4" />}
      </ul>
      {loading && <Loading label="Loading transactions…" />}
      {next && !loading && (
        <Button variant="secondary" onClick={() => void loadPage(next, false)}>Load more</Button>
      )}
    </Page>
  );
}
