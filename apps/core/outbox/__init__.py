"""The transactional outbox's machinery, below `apps.core.events` (the public module apps use)
and above nothing of the outbox's callers:

- `registry`: the `Event` base and who handles which event;
- `delivery`: dispatch, the sweeper, re-dispatch of lost messages, running a handler once;
- `relay`: the per-process thread that sends committed events in batches.

Tasks are sent by name, so nothing here imports `apps.core.tasks`, which imports this.
"""

from apps.core.outbox.delivery import (
    BROKER_ERRORS,
    CONFIRM_TIMEOUT_SECONDS,
    HANDLE_EVENT,
    MARK_DISPATCHED_SQL,
    MAX_BACKOFF_SECONDS,
    SWEEP_GRACE,
    SWEEP_LEASE,
    dispatch,
    given_up_recently,
    handle,
    lag,
    mark_dispatched,
    redispatch,
    redispatch_after,
    redispatch_due,
    redispatch_max,
    sweep,
)
from apps.core.outbox.registry import decode, handlers_for

__all__ = [
    "BROKER_ERRORS",
    "CONFIRM_TIMEOUT_SECONDS",
    "HANDLE_EVENT",
    "MARK_DISPATCHED_SQL",
    "MAX_BACKOFF_SECONDS",
    "SWEEP_GRACE",
    "SWEEP_LEASE",
    "decode",
    "dispatch",
    "given_up_recently",
    "handle",
    "handlers_for",
    "lag",
    "mark_dispatched",
    "redispatch",
    "redispatch_after",
    "redispatch_due",
    "redispatch_max",
    "sweep",
]
