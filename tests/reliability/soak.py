"""Shared code of the soak tests: the world they run in, the worker processes that load it,
and the invariant checks that must hold afterwards.

A worker is a separate OS process (`python -m tests.reliability.soak CONFIG_JSON`) that sets
Django up against the test database pytest-django created (its name comes in `SOAK_TEST_DB`),
prints `ready`, waits for `go` on stdin, moves money through the public services for the
configured seconds and prints one `RESULT {json}` line: operations per kind, refusals per
code, what each idempotency key answered, and any crash (an exception that is not a
`DomainError`: a 500 for a client).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[2]
CURRENCY = "EUR"
# The simulated bank's behaviour by IBAN suffix (apps/payments/providers/simulated.py).
BANK = {
    "ok": "0001",
    "fails": "0002",
    "silent": "0003",
    "twice": "0004",
    "out_of_order": "0005",
}
BANK_REJECTS = "0006"


# --- the world (built in the test process, on the test database) -------------------------------


def build_world(*, customers: int, funds: int, shared: int = 2, member_limit: int = 5_000) -> dict:
    """Customers (tier 1) with a funded personal EUR wallet and one bank account per simulated
    bank behaviour; shared wallets whose members may spend up to `member_limit` a day; one
    staff user for reviews and reversals. Everything through the public services."""
    from django.contrib.auth import get_user_model

    from apps.core.money import Money
    from apps.ledger.tests.factories import fund
    from apps.payments.tests.factories import bank_account, customer
    from apps.wallets import selectors as wallet_selectors
    from apps.wallets import services as wallet_services

    people = []
    for n in range(customers):
        user, wallet = customer(f"soak{n}@finstack.test", tier=1, funds=funds)
        sources = {name: str(bank_account(user, suffix).pk) for name, suffix in BANK.items()}
        sources["rejects"] = str(bank_account(user, BANK_REJECTS).pk)
        people.append(
            {"user": user.pk, "email": user.email, "wallet": str(wallet), "sources": sources}
        )
    shared_wallets = []
    for n in range(shared):
        owner = people[n % len(people)]
        wallet = wallet_services.wallet_create(
            owner_id=owner["user"], currency=CURRENCY, shared=True, name=f"shared {n}"
        )
        fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(funds, CURRENCY))
        members = [p["user"] for p in people if p is not owner][: 2 + n]
        for member in members:
            wallet_services.wallet_member_add(
                wallet_id=wallet,
                owner_id=owner["user"],
                member_id=member,
                daily_limit=Money(member_limit, CURRENCY),
            )
        shared_wallets.append({"wallet": str(wallet), "owner": owner["user"], "members": members})
    staff = get_user_model().objects.create_user("soak-ops@finstack.test", "pw", is_staff=True)
    return {"customers": people, "shared": shared_wallets, "staff": staff.pk}


# --- running workers ----------------------------------------------------------------------------


def run_workers(configs: list[dict], *, timeout: float) -> list[dict]:
    """Start one process per config, release them together, return their RESULT dicts."""
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finstack.settings.test",
        "SOAK_TEST_DB": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in configs]
        return _run(configs, logs, env, timeout)


def _run(configs: list[dict], logs: list, env: dict, timeout: float) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.soak", json.dumps(config)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        for config, log in zip(configs, logs, strict=True)
    ]
    try:
        for proc, log in zip(procs, logs, strict=True):
            if not select.select([proc.stdout], [], [], 120)[0]:
                raise RuntimeError(f"worker did not start in 120 s\n{_tail(log)}")
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"worker did not start: {line!r}\n{_tail(log)}")
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        deadline = time.monotonic() + timeout
        for proc, log in zip(procs, logs, strict=True):
            out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
            lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"worker failed ({proc.returncode})\n{_tail(log)}")
            results.append(json.loads(lines[-1][len("RESULT ") :]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _tail(log: Any) -> str:
    log.seek(0)
    return log.read()[-4000:]


def merge(results: Iterable[dict]) -> dict:
    """One summary of many workers' results."""
    total: dict[str, Any] = {
        "ops": Counter(),
        "refusals": Counter(),
        "keys": defaultdict(list),
        "crashes": [],
        "replays_refused": Counter(),
        "seconds": 0.0,
    }
    for result in results:
        total["ops"].update(result["ops"])
        total["refusals"].update(result["refusals"])
        total["replays_refused"].update(result["replays_refused"])
        total["crashes"] += result["crashes"]
        total["seconds"] = max(total["seconds"], result["seconds"])
        for key, outcomes in result["keys"].items():
            total["keys"][key] += outcomes
    return total


def summary(
    title: str,
    processes: int | str,
    merged: dict,
    violations: list[str],
    settled: dict | None = None,
) -> str:
    ops = merged["ops"]
    count = sum(ops.values())
    if isinstance(processes, int):
        processes = f"{processes} processes"
    seconds = merged["seconds"] or 1.0
    lines = [
        f"=== {title}: {processes}, {seconds:.1f} s, {count} operations, "
        f"{count / seconds:.1f} ops/s",
        "operations: " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())),
        "refusals: "
        + (", ".join(f"{k} {v}" for k, v in sorted(merged["refusals"].items())) or "-"),
        "retries of a completed key answered with a refusal: "
        + (", ".join(f"{k} {v}" for k, v in sorted(merged["replays_refused"].items())) or "none"),
        f"idempotency keys used by more than one call: "
        f"{sum(len(v) > 1 for v in merged['keys'].values())}",
        "after the load (operations): "
        + (", ".join(f"{k} {v}" for k, v in sorted((settled or {}).items())) or "-"),
        f"crashes: {len(merged['crashes'])}",
        *(f"  ! {c.splitlines()[-1]}" for c in merged["crashes"][:10]),
        f"invariant violations: {len(violations)}",
        *(f"  - {v}" for v in violations[:20]),
    ]
    return "\n".join(lines)


def report(request: Any, text: str) -> None:
    """Print past pytest's output capture, so the figures show in a normal run."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stdout.write("\n" + text + "\n")
        sys.stdout.flush()


def payments_settle(*, staff_id: int, deadline: float) -> dict[str, int]:
    """What operations do after the load: decline what still waits in review (nobody is there
    to look), wait until every unanswered payment is past its deadline, then run the recovery
    job, which times out what the bank never answered."""
    from django.db.models import Max
    from django.utils import timezone

    from apps.payments import services
    from apps.payments.models import Payment

    counts: Counter = Counter()
    for payment_id in Payment.objects.filter(state="in_review").values_list("pk", flat=True):
        services.review_decide(payment_id=payment_id, staff_id=staff_id, approve=False)
        counts["declined in review"] += 1
    latest = Payment.objects.filter(state="processing").aggregate(at=Max("deadline_at"))["at"]
    if latest is not None:
        wait = min(max((latest - timezone.now()).total_seconds() + 0.5, 0), deadline + 2)
        time.sleep(wait)
        counts["seconds waited for deadlines"] = round(wait)
    for _ in range(3):
        for outcome, n in services.payments_recover().items():
            counts[outcome] += n
        if not Payment.objects.filter(state="processing").exists():
            break
    return dict(counts)


# --- the invariants -----------------------------------------------------------------------------


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def invariant_violations(
    *, observed_keys: dict[str, list[str]] | None = None, days: Iterable[date] = ()
) -> list[str]:
    """Everything that must be true of the books after any load, as a list of violations
    (empty: all hold). `observed_keys`: per client idempotency key, what each call with it
    answered ("ok:<id>" or "refused:<code>"); `days`: the UTC days to reconcile."""
    out: list[str] = []
    out += _ledger_conservation()
    out += _stored_balances()
    out += _no_overdraft()
    out += _idempotency(observed_keys or {})
    out += _sagas()
    out += _limits()
    out += _commands(days)
    return out


def _ledger_conservation() -> list[str]:
    out = [
        f"ledger: stored balances of {ccy} sum to {total}, not 0"
        for ccy, total in _rows(
            "SELECT a.currency, sum(b.posted_credits - b.posted_debits) FROM ledger_balance b"
            " JOIN ledger_account a ON a.id = b.account_id GROUP BY 1"
            " HAVING sum(b.posted_credits - b.posted_debits) <> 0"
        )
    ]
    out += [
        f"ledger: entries of {ccy} sum to {total}, not 0"
        for ccy, total in _rows(
            "SELECT currency, sum(CASE direction WHEN 'C' THEN amount ELSE -amount END)"
            " FROM ledger_entry GROUP BY 1"
            " HAVING sum(CASE direction WHEN 'C' THEN amount ELSE -amount END) <> 0"
        )
    ]
    out += [
        f"ledger: transaction {txn} is unbalanced in {ccy} by {diff}"
        for txn, ccy, diff in _rows(
            "SELECT transaction_id, currency,"
            " sum(CASE direction WHEN 'C' THEN amount ELSE -amount END) FROM ledger_entry"
            " GROUP BY 1, 2 HAVING sum(CASE direction WHEN 'C' THEN amount ELSE -amount END) <> 0"
        )
    ]
    return out


def _stored_balances() -> list[str]:
    posted = _rows(
        "SELECT a.code, b.d, b.c, coalesce(e.d, 0), coalesce(e.c, 0) FROM ledger_account a"
        " JOIN (SELECT account_id, sum(posted_debits) d, sum(posted_credits) c"
        "       FROM ledger_balance GROUP BY 1) b ON b.account_id = a.id"
        " LEFT JOIN (SELECT account_id, sum(amount) FILTER (WHERE direction = 'D') d,"
        "            sum(amount) FILTER (WHERE direction = 'C') c FROM ledger_entry GROUP BY 1) e"
        "   ON e.account_id = a.id"
        " WHERE b.d <> coalesce(e.d, 0) OR b.c <> coalesce(e.c, 0)"
    )
    out = [
        f"ledger: {code} stores debits/credits {d}/{c}, its entries sum to {ed}/{ec}"
        for code, d, c, ed, ec in posted
    ]
    pending = _rows(
        "SELECT a.code, b.pd, b.pc, coalesce(hd.s, 0), coalesce(hc.s, 0) FROM ledger_account a"
        " JOIN (SELECT account_id, sum(pending_debits) pd, sum(pending_credits) pc"
        "       FROM ledger_balance GROUP BY 1) b ON b.account_id = a.id"
        " LEFT JOIN (SELECT debit_account_id id, sum(amount) s FROM ledger_hold"
        "            WHERE status = 'pending' GROUP BY 1) hd ON hd.id = a.id"
        " LEFT JOIN (SELECT credit_account_id id, sum(amount) s FROM ledger_hold"
        "            WHERE status = 'pending' GROUP BY 1) hc ON hc.id = a.id"
        " WHERE b.pd <> coalesce(hd.s, 0) OR b.pc <> coalesce(hc.s, 0)"
    )
    out += [
        f"ledger: {code} stores pending {pd}/{pc}, its open holds sum to {hd}/{hc}"
        for code, pd, pc, hd, hc in pending
    ]
    return out


def _no_overdraft() -> list[str]:
    from apps.ledger import selectors as ledger_selectors
    from apps.ledger.models import Account

    out = []
    for account_id, code in Account.objects.filter(
        rule="debits_must_not_exceed_credits"
    ).values_list("pk", "code"):
        balance = ledger_selectors.account_balance(account_id=account_id)
        if balance.available.amount < 0 or balance.posted.amount < 0:
            out.append(
                f"overdraft: {code} posted {balance.posted.amount},"
                f" available {balance.available.amount}"
            )
    return out


def _idempotency(observed: dict[str, list[str]]) -> list[str]:
    out = []
    for key, outcomes in sorted(observed.items()):
        ids = {o for o in outcomes if o.startswith("ok:")}
        if len(ids) > 1:
            out.append(f"idempotency: key {key} produced {len(ids)} results: {sorted(ids)}")
    checks = [
        (
            "ledger transactions per key",
            "SELECT idempotency_key, count(*) FROM ledger_transaction GROUP BY 1"
            " HAVING count(*) > 1",
        ),
        (
            "holds per key",
            "SELECT idempotency_key, count(*) FROM ledger_hold GROUP BY 1 HAVING count(*) > 1",
        ),
        (
            "payments per client key",
            "SELECT user_id || ':' || direction || ':' || client_key, count(*) FROM"
            " payments_payment GROUP BY 1 HAVING count(*) > 1",
        ),
        (
            "transfers per ledger transaction",
            "SELECT ledger_transaction_id::text, count(*) FROM wallets_transfer GROUP BY 1"
            " HAVING count(*) > 1",
        ),
        (
            "p2p postings without a transfer",
            "SELECT t.idempotency_key, 0 FROM ledger_transaction t LEFT JOIN wallets_transfer w"
            " ON w.ledger_transaction_id = t.id WHERE t.kind = 'p2p' AND w.id IS NULL",
        ),
        (
            "transfers without their posting",
            "SELECT w.id::text, 0 FROM wallets_transfer w LEFT JOIN ledger_transaction t"
            " ON t.id = w.ledger_transaction_id WHERE t.id IS NULL",
        ),
        (
            "settling postings per payment",
            "SELECT p.id::text, count(t.id) FROM payments_payment p JOIN ledger_transaction t"
            " ON t.idempotency_key IN ('payment:' || p.id || ':settle',"
            "                          'hold:' || p.hold_id || ':post')"
            " GROUP BY 1 HAVING count(t.id) > 1",
        ),
        (
            "client key retried into another payment",
            "SELECT p.client_key, count(DISTINCT p.id) FROM payments_payment p"
            " GROUP BY p.user_id, p.client_key, p.direction HAVING count(DISTINCT p.id) > 1",
        ),
    ]
    for name, sql in checks:
        out += [f"idempotency: {name}: {key} ({n})" for key, n in _rows(sql)]
    return out


def _sagas() -> list[str]:
    from apps.ledger import selectors as ledger_selectors
    from apps.ledger.models import Hold
    from apps.payments.models import TERMINAL, Payment

    out = []
    holds = dict(Hold.objects.values_list("pk", "status"))
    settled = {"deposit": 0, "withdrawal": 0}
    for payment in Payment.objects.all():
        name = f"saga: {payment.direction} {payment.pk} ({payment.state})"
        if payment.state not in TERMINAL:
            out.append(f"{name} is not finished")
            continue
        if payment.needs_attention:
            out.append(f"{name} needs attention")
        hold = holds.get(payment.hold_id) if payment.hold_id else None
        if payment.state == "succeeded":
            settled[payment.direction] += payment.amount
            if payment.ledger_transaction_id is None:
                out.append(f"{name} succeeded without a posting")
            if payment.direction == "withdrawal" and hold != "posted":
                out.append(f"{name} succeeded but its hold is {hold}")
        elif payment.direction == "withdrawal" and payment.hold_id and hold != "voided":
            out.append(f"{name} ended but its hold is {hold}, not released")
        elif payment.ledger_transaction_id is not None:
            out.append(f"{name} ended unsuccessfully but posted money")
    clearing = ledger_selectors.account_balance(
        account_id=ledger_selectors.system_account_id(
            purpose="bank_clearing", currency=CURRENCY, provider="simulated"
        )
    ).posted.amount
    if clearing != settled["deposit"] - settled["withdrawal"]:
        out.append(
            f"payments: bank clearing is {clearing}, settled deposits - withdrawals are"
            f" {settled['deposit'] - settled['withdrawal']}"
        )
    return out


def _limits() -> list[str]:
    """What each user sent (transfers and withdrawals that did not fail) per UTC day within
    their tier's daily and per-transaction limits; their spending gate counts exactly that;
    each shared-wallet member within their own daily limit."""
    from apps.kyc import selectors as kyc_selectors
    from apps.wallets.models import SpendingGate, WalletMember

    out = []
    sent = _rows(
        "SELECT user_id, currency, day, sum(total), max(total) FROM ("
        " SELECT requested_by_id AS user_id, currency,"
        "        (created_at AT TIME ZONE 'UTC')::date AS day, amount + fee AS total"
        " FROM wallets_transfer"
        " UNION ALL"
        " SELECT user_id, currency, (created_at AT TIME ZONE 'UTC')::date, amount"
        " FROM payments_payment WHERE direction = 'withdrawal'"
        "   AND state NOT IN ('failed', 'canceled')) x GROUP BY 1, 2, 3"
    )
    today = datetime.now(UTC).date()
    counted_today = {}
    for user_id, currency, day, total, biggest in sent:
        limits = kyc_selectors.limits_for(user_id=user_id, currency=currency)
        if total > limits.daily.amount:
            out.append(
                f"limits: user {user_id} sent {total} {currency} on {day},"
                f" over the daily limit {limits.daily.amount}"
            )
        if biggest > limits.per_transaction.amount:
            out.append(
                f"limits: user {user_id} sent {biggest} {currency} at once,"
                f" over the per-transaction limit {limits.per_transaction.amount}"
            )
        if day == today:
            counted_today[(user_id, currency)] = total
    for gate in SpendingGate.objects.filter(day=today):
        moved = counted_today.pop((gate.user_id, gate.currency), 0)
        if gate.day_total != moved:
            out.append(
                f"limits: user {gate.user_id}'s spending gate counts {gate.day_total}"
                f" {gate.currency} today, {moved} actually left"
            )
    for (user_id, currency), moved in counted_today.items():
        out.append(f"limits: user {user_id} sent {moved} {currency} today, uncounted by the gate")
    member_limits = {
        (str(m.wallet_id), m.user_id): m.daily_limit
        for m in WalletMember.objects.filter(daily_limit__isnull=False)
    }
    for wallet_id, user_id, day, total in _rows(
        "SELECT source_wallet_id::text, requested_by_id, (created_at AT TIME ZONE 'UTC')::date,"
        " sum(amount + fee) FROM wallets_transfer GROUP BY 1, 2, 3"
    ):
        allowed = member_limits.get((wallet_id, user_id))
        if allowed is not None and total > allowed:
            out.append(
                f"limits: member {user_id} sent {total} from shared wallet {wallet_id} on {day},"
                f" over their daily limit {allowed}"
            )
    return out


def _commands(days: Iterable[date]) -> list[str]:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = []
    text = StringIO()
    try:
        call_command("ledger_verify", stdout=text)
    except CommandError as error:
        out.append(f"ledger_verify: {error}: {text.getvalue()[-1500:]}")
    for day in sorted(set(days)):
        text = StringIO()
        try:
            call_command("reconcile", date=day, stdout=text)
        except SystemExit:
            out.append(f"reconcile {day}: {text.getvalue()[-1500:]}")
    return out


# --- the worker process -------------------------------------------------------------------------


class Worker:
    """One process's random operations through the services (see OPERATIONS)."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.world = config["world"]
        self.rng = random.Random(config["seed"])
        self.name = f"w{config['seed']}"
        self.n = 0
        self.ops: Counter = Counter()
        self.refusals: Counter = Counter()
        self.replays_refused: Counter = Counter()
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.crashes: list[str] = []
        senders = config.get("senders")
        self.customers = self.world["customers"][:senders] if senders else self.world["customers"]

    # helpers ----------------------------------------------------------------------------------

    def key(self) -> str:
        self.n += 1
        return f"{self.name}-{self.n}"

    @staticmethod
    def shared_key(prefix: str, slots: int = 1) -> str:
        """A key other processes use at about the same moment (the same half second), with the
        same request derived from it: concurrent retries of one client request."""
        return f"{prefix}-{int(time.time() * 2)}-{random.randrange(slots)}"

    def call(self, kind: str, key: str | None, fn: Callable[[], str], retry: bool = True) -> None:
        """Run one operation (and, sometimes, the client's retry of it with the same key)."""
        from apps.core.errors import DomainError

        attempts = 1 + (retry and key is not None and self.rng.random() < 0.2)
        first = None
        for attempt in range(attempts):
            self.ops[kind if attempt == 0 else "retry"] += 1
            try:
                outcome = "ok:" + str(fn())
            except DomainError as refused:
                outcome = "refused:" + refused.code
                self.refusals[refused.code] += 1
                if first is not None and first.startswith("ok:"):
                    self.replays_refused[f"{kind}/{refused.code}"] += 1
            except Exception:  # noqa: BLE001 - a crash is a finding: reported to the test
                outcome = "crash"
                self.crashes.append(f"{kind}: {traceback.format_exc()[-1500:]}")
                from django.db import connection

                connection.close()  # a broken connection must not poison the next operation
            if key is not None:
                self.keys[key].append(outcome)
            first = first or outcome

    def answer(self, payment_id: Any) -> None:
        """The simulated bank settles and calls our webhook (some fail, some twice, some out
        of order, some never)."""
        from apps.payments import services
        from apps.payments.providers import simulated

        for body, headers in simulated.callbacks(str(payment_id)):
            services.webhook_receive(provider="simulated", body=body, headers=headers)

    def someone(self) -> dict:
        return self.rng.choice(self.customers)

    # operations ---------------------------------------------------------------------------------

    def transfer(self, source: str, sender: int, destination: str, amount: int, key: str) -> str:
        from apps.core.money import Money
        from apps.wallets import services

        result = services.transfer_create(
            source_wallet_id=UUID(source),
            destination=destination,
            amount=Money(amount, CURRENCY),
            requested_by_id=sender,
            idempotency_key=key,
        )
        return str(result.id)

    def op_p2p(self) -> None:
        sender, recipient = self.someone(), self.rng.choice(self.world["customers"])
        if sender is recipient:
            return
        destination = recipient["email"] if self.rng.random() < 0.2 else recipient["wallet"]
        amount, key = self.rng.randrange(100, 3_000), self.key()
        self.call(
            "p2p",
            key,
            lambda: self.transfer(sender["wallet"], sender["user"], destination, amount, key),
        )

    def op_to_shared(self) -> None:
        sender, shared = self.someone(), self.rng.choice(self.world["shared"])
        amount, key = self.rng.randrange(100, 2_000), self.key()
        self.call(
            "p2p_to_shared",
            key,
            lambda: self.transfer(sender["wallet"], sender["user"], shared["wallet"], amount, key),
        )

    def op_from_shared(self) -> None:
        shared = self.rng.choice(self.world["shared"])
        spender = self.rng.choice([shared["owner"], *shared["members"]])
        recipient = self.rng.choice(self.world["customers"])
        amount, key = self.rng.randrange(100, 2_500), self.key()
        kind = "p2p_from_shared_owner" if spender == shared["owner"] else "p2p_from_shared_member"
        self.call(
            kind,
            key,
            lambda: self.transfer(shared["wallet"], spender, recipient["wallet"], amount, key),
        )

    def op_p2p_same_key(self) -> None:
        """Several processes send the same client request (one key) at about the same time."""
        key = self.shared_key("p2p-shared")
        rng = random.Random(key)
        sender, recipient = rng.sample(self.customers, 2)
        amount = rng.randrange(100, 2_000)
        self.call(
            "p2p_same_key_across_processes",
            key,
            lambda: self.transfer(
                sender["wallet"], sender["user"], recipient["wallet"], amount, key
            ),
            retry=False,
        )

    def op_refused(self) -> None:
        """Requests a client gets wrong: to itself, in another currency, a key reused for
        another amount, a wallet or bank account in a currency the ledger cannot book."""
        from apps.core.money import Money
        from apps.payments import services as payments
        from apps.payments.tests.factories import iban
        from apps.wallets import services

        sender = self.someone()
        recipient = self.rng.choice([p for p in self.world["customers"] if p is not sender])
        choice = self.rng.randrange(5)
        if choice == 3:
            self.call(
                "bad_wallet_currency",
                None,
                lambda: str(services.wallet_create(owner_id=sender["user"], currency="JPY")),
            )
            return
        if choice == 4:
            self.call(
                "bad_bank_account_currency",
                None,
                lambda: str(
                    payments.funding_source_add(
                        user_id=sender["user"],
                        iban=iban("0009"),
                        holder_name="Soak Example",
                        currency="JPY",
                    )
                ),
            )
            return
        if choice == 0:
            self.call(
                "bad_self_transfer",
                None,
                lambda: self.transfer(sender["wallet"], sender["user"], sender["wallet"], 100, "x"),
            )
        elif choice == 1:
            self.call(
                "bad_currency",
                None,
                lambda: services.transfer_create(
                    source_wallet_id=UUID(sender["wallet"]),
                    destination=recipient["wallet"],
                    amount=Money(100, "USD"),
                    requested_by_id=sender["user"],
                    idempotency_key=self.key(),
                ),
            )
        else:
            key = self.key()
            for kind, amount in (("p2p", 101), ("bad_key_reused_other_amount", 102)):
                self.call(
                    kind,
                    key,
                    lambda amount=amount: self.transfer(
                        sender["wallet"], sender["user"], recipient["wallet"], amount, key
                    ),
                    retry=False,
                )

    def payment(self, direction: str, person: dict, source: str, amount: int, key: str) -> str:
        from apps.core.money import Money
        from apps.payments import services

        create = services.deposit_create if direction == "deposit" else services.withdrawal_create
        payment_id = create(
            user_id=person["user"],
            wallet_id=UUID(person["wallet"]),
            funding_source_id=UUID(person["sources"][source]),
            amount=Money(amount, CURRENCY),
            client_key=key,
        )
        self.answer(payment_id)
        return str(payment_id)

    def _bank(self) -> str:
        late = time.monotonic() > self.config["silent_until"]
        names = ["ok", "ok", "ok", "fails", "twice", "out_of_order", "rejects", "silent"]
        return self.rng.choice(names[:-1] if late else names)

    def op_deposit(self) -> None:
        person, key = self.someone(), self.key()
        bank, amount = self._bank(), self.rng.randrange(500, 5_000)
        self.call(
            f"deposit_{bank}", key, lambda: self.payment("deposit", person, bank, amount, key)
        )

    def op_withdrawal(self) -> None:
        person, key = self.someone(), self.key()
        bank, amount = self._bank(), self.rng.randrange(500, 5_000)
        self.call(
            f"withdrawal_{bank}", key, lambda: self.payment("withdrawal", person, bank, amount, key)
        )

    def op_payment_same_key(self) -> None:
        key = self.shared_key("pay-shared")
        rng = random.Random(key)
        person, direction = rng.choice(self.customers), rng.choice(["deposit", "withdrawal"])
        amount = rng.randrange(500, 3_000)
        self.call(
            f"{direction}_same_key_across_processes",
            key,
            lambda: self.payment(direction, person, "ok", amount, key),
            retry=False,
        )

    def op_review(self) -> None:
        """Compliance staff decide a payment the risk rules sent to review."""
        from apps.payments import services
        from apps.payments.models import Payment

        waiting = list(Payment.objects.filter(state="in_review").values_list("pk", flat=True)[:20])
        if not waiting:
            return
        payment_id, approve = self.rng.choice(waiting), self.rng.random() < 0.7
        # An approval restarts the payment's deadline: late in the run, decline instead, so
        # that whatever the bank never answers is past its deadline when the load ends.
        approve = approve and time.monotonic() < self.config["silent_until"]

        def decide() -> str:
            services.review_decide(
                payment_id=payment_id, staff_id=self.world["staff"], approve=approve
            )
            if approve:
                self.answer(payment_id)
            return str(payment_id)

        self.call("review_approve" if approve else "review_decline", None, decide)

    def op_reverse(self) -> None:
        """Staff reverse a recent transfer; sometimes two at once (same key: one reversal;
        another key: already reversed)."""
        from apps.ledger import services as ledger_services
        from apps.ledger.models import Transaction

        recent = list(
            Transaction.objects.filter(kind="p2p", reversed_by__isnull=True)
            .order_by("-created_at")
            .values_list("pk", flat=True)[:10]
        )
        if not recent:
            return
        txn = self.rng.choice(recent)
        key = f"reverse:{txn}" if self.rng.random() < 0.7 else f"reverse:{txn}:{self.key()}"

        def reverse() -> str:
            return str(
                ledger_services.transaction_reverse(
                    transaction_id=txn,
                    idempotency_key=key,
                    reason="soak: staff correction",
                    created_by=f"user:{self.world['staff']}",
                ).transaction_id
            )

        self.call("reversal", key, reverse)

    def op_recover(self) -> None:
        """The payments.recover beat job, as it runs every minute in production."""
        from apps.payments import services

        self.call("recovery_job", None, lambda: str(sum(services.payments_recover().values())))

    OPERATIONS: tuple[tuple[str, int], ...] = (
        ("op_p2p", 30),
        ("op_to_shared", 7),
        ("op_from_shared", 10),
        ("op_p2p_same_key", 6),
        ("op_refused", 4),
        ("op_deposit", 12),
        ("op_withdrawal", 12),
        ("op_payment_same_key", 3),
        ("op_review", 5),
        ("op_reverse", 5),
        ("op_recover", 2),
    )

    def run(self) -> dict:
        chosen = self.config.get("weights") or dict(self.OPERATIONS)
        names, weights = list(chosen), list(chosen.values())
        start = time.monotonic()
        self.config["silent_until"] = start + self.config["seconds"] - self.config["deadline"] - 1
        stop = start + self.config["seconds"]
        while time.monotonic() < stop:
            getattr(self, self.rng.choices(names, weights)[0])()
        return {
            "ops": self.ops,
            "refusals": self.refusals,
            "replays_refused": self.replays_refused,
            "keys": self.keys,
            "crashes": self.crashes,
            "seconds": time.monotonic() - start,
        }


class LimitsWorker:
    """Threads of one process spending one user's money from their several wallets (P2P
    transfers and withdrawals, at once), until the daily limit refuses them."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.world = config["world"]
        self.ops: Counter = Counter()
        self.refusals: Counter = Counter()
        self.crashes: list[str] = []
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.lock = threading.Lock()

    def spend(self, n: int) -> None:
        from apps.core.errors import DomainError
        from apps.core.money import Money
        from apps.payments import services
        from apps.payments.providers import simulated
        from apps.wallets import services as wallet_services

        world, rng = self.world, random.Random(f"{self.config['seed']}-{n}")
        refused_in_a_row = 0
        for attempt in range(self.config["attempts"]):
            wallet, amount = rng.choice(world["wallets"]), rng.randrange(500, 3_001)
            key = f"limits-{self.config['seed']}-{n}-{attempt}"
            withdrawal = rng.random() < 0.4
            if attempt == 0:  # the first wave fits the limit: both kinds surely move money
                withdrawal, amount = n % 2 == 0, 500
            try:
                if withdrawal:
                    payment_id = services.withdrawal_create(
                        user_id=world["user"],
                        wallet_id=UUID(wallet),
                        funding_source_id=UUID(world["source"]),
                        amount=Money(amount, CURRENCY),
                        client_key=key,
                    )
                    for body, headers in simulated.callbacks(str(payment_id)):
                        services.webhook_receive(provider="simulated", body=body, headers=headers)
                    outcome = f"ok:{payment_id}"
                else:
                    result = wallet_services.transfer_create(
                        source_wallet_id=UUID(wallet),
                        destination=world["sink"],
                        amount=Money(amount, CURRENCY),
                        requested_by_id=world["user"],
                        idempotency_key=key,
                    )
                    outcome = f"ok:{result.id}"
                refused_in_a_row = 0
            except DomainError as refused:
                code = refused.code
                if code == "limit_exceeded":
                    code += ":" + str(refused.details.get("limit"))
                    refused_in_a_row += 1
                outcome = "refused:" + code
            except Exception:  # noqa: BLE001 - a crash is a finding: reported to the test
                outcome = "crash"
                with self.lock:
                    self.crashes.append(traceback.format_exc()[-1500:])
            with self.lock:
                self.ops["withdrawal" if withdrawal else "p2p"] += 1
                self.keys[key].append(outcome)
                if outcome.startswith("refused:"):
                    self.refusals[outcome[len("refused:") :]] += 1
            if refused_in_a_row >= 3:
                break

    def run(self) -> dict:
        from django.db import connections

        start = time.monotonic()
        barrier = threading.Barrier(self.config["threads"])

        def body(n: int) -> None:
            try:
                barrier.wait()
                self.spend(n)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=body, args=(n,)) for n in range(self.config["threads"])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "ops": self.ops,
            "refusals": self.refusals,
            "replays_refused": {},
            "keys": self.keys,
            "crashes": self.crashes,
            "seconds": time.monotonic() - start,
        }


def break_spending_gate() -> None:
    """The negative control: transfers read the spending gate without locking it (a plain
    SELECT, then the limit check, then a write of the stale total), as if the lock had been
    "optimised away". Concurrent transfers of one user then pass the limit together."""
    from django.db import connection

    from apps.core.money import Money
    from apps.wallets import services

    def unlocked_gate(user_id: int, currency: str) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO wallets_spendinggate (user_id, currency, day_total, month_total)"
                " VALUES (%s, %s, 0, 0) ON CONFLICT (user_id, currency) DO NOTHING",
                [user_id, currency],
            )
            cursor.execute(
                "SELECT day, day_total, month, month_total FROM wallets_spendinggate"
                " WHERE user_id = %s AND currency = %s",
                [user_id, currency],
            )
            day, day_total, month, month_total = cursor.fetchone()
        time.sleep(0.05)  # the time a slower check would take: the race window
        today = datetime.now(UTC).date()
        return services.limits._Gate(
            Money(day_total if day == today else 0, currency),
            Money(month_total if month == today.replace(day=1) else 0, currency),
        )

    def unlocked_gate_and_load(
        user_id: int, currency: str, wallet_id: Any, other_id: Any
    ) -> tuple[Any, dict]:
        from apps.wallets.models import Wallet, WalletMember

        gate, found = unlocked_gate(user_id, currency), {}
        for wallet in Wallet.objects.filter(pk__in=[wallet_id, other_id or wallet_id]):
            role = (
                "owner"
                if wallet.owner_id == user_id
                else WalletMember.objects.filter(wallet=wallet, user_id=user_id)
                .values_list("role", flat=True)
                .first()
            )
            found[wallet.pk] = (wallet, role)
        return gate, found

    # Patched where they are looked up: spend_reserve and transfer_create.
    services.limits._lock_spending_gate = unlocked_gate  # withdrawals
    services.transfers._lock_gate_and_load = unlocked_gate_and_load  # transfers


def break_balance_update() -> None:
    """The other negative control: after each P2P posting the sender's stored balance is
    "refreshed" by a read-modify-write (read before the posting, without a lock; written
    after it), as a cache update done wrong would. Concurrent postings on one wallet then
    lose debits: stored balances drift from the entries."""
    from django.db import connection

    from apps.ledger import services as ledger_services

    original = ledger_services.transaction_post

    def posting_with_stale_refresh(*, legs: Any, kind: str, **kwargs: Any) -> Any:
        if kind != "p2p":
            return original(legs=legs, kind=kind, **kwargs)
        source = legs[0].account_id
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT posted_debits FROM ledger_balance WHERE account_id = %s", [source]
            )
            (debits,) = cursor.fetchone()
        time.sleep(0.02)  # the race window
        result = original(legs=legs, kind=kind, **kwargs)
        if not result.replayed:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE ledger_balance SET posted_debits = %s WHERE account_id = %s",
                    [debits + legs[0].amount.amount, source],
                )
        return result

    ledger_services.transaction_post = posting_with_stale_refresh


BREAKS = {"spending_gate": break_spending_gate, "balance_update": break_balance_update}


def main() -> None:
    config = json.loads(sys.argv[1])
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = os.environ["SOAK_TEST_DB"]
    django.setup()
    # Short saga clocks, so the recovery job can finish what the bank never answers within
    # the run (production: 300 s webhook wait, a day's deadline).
    settings.PAYMENTS_WEBHOOK_WAIT_SECONDS = 1
    settings.PAYMENTS_DEADLINE_SECONDS = config["deadline"]
    if config.get("risk"):
        settings.PAYMENTS_RISK = config["risk"]
    if config.get("broken"):
        BREAKS[config["broken"]]()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit("no go")
    worker_class = {"money": Worker, "limits": LimitsWorker}[config.get("kind", "money")]
    result = worker_class(config).run()
    from django.db import connections

    connections.close_all()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
