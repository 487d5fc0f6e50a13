"""Per-request (or per-task) context that log lines and outbox rows pick up."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
# The outbox event a handler is running for: lets handlers deduplicate their own effects.
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
