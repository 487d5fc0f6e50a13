"""Public writes of apps.payments: funding sources, deposits and withdrawals as sagas.

A payment's saga lives in its row (state, step, due_at). Steps run in Celery tasks queued
after commit; every provider call happens outside any database transaction and carries our
payment id as its idempotency key; every ledger posting carries a key derived from the
payment id (`payment:<id>:hold|settle`), so a re-run step never moves money twice. The
`payments.recover` beat job picks up any payment whose step is overdue: re-sends a lost
request, polls the provider when its webhook is late, and compensates (cancels at the
provider, voids the hold) once the deadline passes.

A deposit's settling posting carries the wallet's ceiling (the tier's maximum balance), so the
maximum is checked under the ledger's lock at the moment the money lands: pending deposits
that each passed the check at request time cannot together overfill the wallet. One that
would is not booked: the collected money stays in bank clearing (visible in reconciliation),
the payment stays processing with `needs_attention` and an `attention` timeline entry
`max_balance_exceeded`, and the customer gets `payments.payment_in_review` once. Every
recovery poll tries the booking again, so it lands once the tier allows it (staff upgrade the
tier, then "retry now"). A settled collection cannot be canceled at the bank: staff resolve
such a payment by hand (see "resolutions" below: book it once it fits, or record it as
returned at the bank).

Lock order inside a transaction: the user's spending gate (wallets), the payment row, then
the ledger's shards (ledger).

The package re-exports every public name, so callers keep `from apps.payments import
services`. Modules: funding_sources, payments (create, cancel), saga (the REQUEST step),
webhooks, recovery, staff (risk review, compensations, resolutions); _common holds the
helpers several of them share."""

from apps.payments import errors
from apps.payments.services._common import InsufficientFunds, Step, StepRetry
from apps.payments.services.funding_sources import funding_source_add, funding_source_remove
from apps.payments.services.payments import (
    CANCELED_BY_CUSTOMER,
    deposit_create,
    no_payment_in_flight,
    payment_cancel,
    withdrawal_create,
)
from apps.payments.services.recovery import (
    RECOVER_JOB,
    WEBHOOK_JOB,
    payment_recover,
    payments_recover,
)
from apps.payments.services.saga import step_run
from apps.payments.services.staff import (
    RESOLUTIONS,
    compensation_approve,
    compensation_propose,
    manual_action_approve,
    resolution_approve,
    resolution_propose,
    review_decide,
    step_retry_now,
)
from apps.payments.services.webhooks import webhook_process, webhook_receive

__all__ = [
    "CANCELED_BY_CUSTOMER",
    "RECOVER_JOB",
    "RESOLUTIONS",
    "WEBHOOK_JOB",
    "InsufficientFunds",
    "Step",
    "StepRetry",
    "compensation_approve",
    "compensation_propose",
    "deposit_create",
    "errors",
    "funding_source_add",
    "funding_source_remove",
    "manual_action_approve",
    "no_payment_in_flight",
    "payment_cancel",
    "payment_recover",
    "payments_recover",
    "resolution_approve",
    "resolution_propose",
    "review_decide",
    "step_retry_now",
    "step_run",
    "webhook_process",
    "webhook_receive",
    "withdrawal_create",
]
