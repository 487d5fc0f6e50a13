"""Public writes of apps.webhooks: endpoints, their secrets, and delivering events to them.

An event handler (handlers.py) turns a domain event into one Delivery per enabled endpoint
that wants it, in the handler's own transaction; after commit a Celery task
(`webhooks.delivery_attempt`) makes each attempt: claim the delivery (a lease, committed),
POST outside any transaction, record the outcome. A failure schedules the next attempt on
an exponential back-off with jitter (a Celery message with a countdown for the first few
minutes); the `webhooks.requeue` beat job sends whatever is due with no message coming:
later retries, and messages the broker lost. Delivery is at least once: a worker that
dies between the POST and the record leaves the lease to expire, and the attempt is made
again; receivers deduplicate on the event id.

An endpoint whose attempts keep failing is disabled (see `_failure_rule`): its open
deliveries wait, and enabling it again sends them."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import requests
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core import retention, signing
from apps.core.events import publish
from apps.core.ids import uuid7
from apps.core.models import OutboxEvent
from apps.core.outbox import BROKER_ERRORS
from apps.ledger import selectors as ledger_selectors
from apps.notifications import services as notifications_services
from apps.webhooks import addresses, selectors
from apps.webhooks.catalog import NAMESPACED, PING, SUBSCRIBABLE
from apps.webhooks.errors import (
    DeliveryNotFound,
    EndpointDisabled,
    EndpointNotFound,
    EventTypeNotAllowed,
    UnknownEventType,
    UrlRefused,
)
from apps.webhooks.events import EndpointDisabled as EndpointDisabledEvent
from apps.webhooks.events import EndpointEnabled
from apps.webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret
from apps.webhooks.selectors import OPEN, EndpointInfo

__all__ = [
    "DeliveryNotFound",
    "EndpointDisabled",
    "EndpointNotFound",
    "EventTypeNotAllowed",
    "UnknownEventType",
    "UrlRefused",
]

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
USER_AGENT = "Finstack-Webhooks/1.0"
EXCERPT_CHARS = 1000  # of a response body kept on the attempt
REQUEUE_GRACE = timedelta(seconds=60)  # a due delivery's own message gets this long first
REQUEUE_BATCH = 500
# A later retry is left to the requeue job: a worker holds each scheduled message unacked
# until its time, so hour-long countdowns pile up in workers' memory (and outlive Redis's
# visibility timeout, which delivers them again).
SCHEDULED_MESSAGE_MAX = timedelta(minutes=5)
DUE_SLACK = timedelta(seconds=2)  # a scheduled message may arrive a little early (clock skew)
RESUME_ENQUEUE_MAX = 1000  # re-enabling sends this many at once; the sweeper takes the rest
ALERT_KIND = "webhook_endpoint_disabled"


@dataclasses.dataclass(frozen=True)
class EndpointCreated:
    endpoint: EndpointInfo
    secret: str  # shown once; only its encrypted form is kept


@dataclasses.dataclass(frozen=True)
class SecretRotated:
    endpoint_id: UUID
    secret: str  # shown once
    previous_expires_at: datetime | None  # None: there was no previous secret


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _event_types(event_types: Iterable[str], namespace: str = "") -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [name for name in chosen if name not in SUBSCRIBABLE]
    if unknown:
        raise UnknownEventType(unknown=unknown, known=list(SUBSCRIBABLE))
    if namespace:
        others = [name for name in chosen if name not in NAMESPACED]
        if others:
            raise EventTypeNotAllowed(not_allowed=others, allowed=list(NAMESPACED))
        return chosen or list(NAMESPACED)
    return chosen


def namespaces_moved(*, event_type: str, payload: dict[str, Any]) -> set[str]:
    """The API namespaces on whose accounts a ledger event moves money (none for others)."""
    if event_type == "ledger.transaction_posted":
        accounts = [str(leg["account_id"]) for leg in payload.get("legs", [])]
    elif event_type == "ledger.transaction_reversed":
        accounts = [str(a) for a in payload.get("account_ids", [])]
    elif event_type == "ledger.hold_created":
        accounts = [str(payload["debit_account_id"]), str(payload["credit_account_id"])]
    elif event_type in ("ledger.hold_posted", "ledger.hold_voided"):
        accounts = ledger_selectors.hold_account_ids(hold_id=str(payload["hold_id"]))
    else:
        return set()
    return ledger_selectors.account_namespaces(account_ids=accounts)


def _locked(endpoint_id: UUID) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(endpoint_id=str(endpoint_id))
    return endpoint


def endpoint_create(
    *,
    url: str,
    description: str = "",
    event_types: Iterable[str] = (),
    created_by_id: int | None = None,
    namespace: str = "",
) -> EndpointCreated:
    """A new enabled endpoint and its first secret (returned here once, never again).
    `namespace`: registered by an API key of it (see catalog.NAMESPACED)."""
    addresses.check_url(url)
    types = _event_types(event_types, namespace)
    secret = _new_secret()
    with transaction.atomic():
        endpoint = Endpoint(
            url=url,
            description=description,
            event_types=types,
            created_by_id=created_by_id,
            namespace=namespace,
        )
        endpoint.full_clean()
        endpoint.save()
        EndpointSecret.objects.create(endpoint=endpoint, secret=secret)
    return EndpointCreated(endpoint=selectors.endpoint_info(endpoint), secret=secret)


def endpoint_update(
    *,
    endpoint_id: UUID,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
) -> EndpointInfo:
    """Change what is given (None: unchanged). Deliveries already made keep their URL's
    outcome; open ones go to the new URL."""
    if url is not None:
        addresses.check_url(url)
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        types = _event_types(event_types, endpoint.namespace) if event_types is not None else None
        if url is not None:
            endpoint.url = url
        if description is not None:
            endpoint.description = description
        if types is not None:
            endpoint.event_types = types
        endpoint.full_clean()
        endpoint.save()
    return selectors.endpoint_info(endpoint)


def endpoint_disable(*, endpoint_id: UUID, reason: str = "disabled by hand") -> EndpointInfo:
    """Stop sending: open deliveries wait until the endpoint is enabled again, and new events
    make no deliveries for it meanwhile. Disabling a disabled endpoint changes nothing."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if endpoint.status == Endpoint.Status.ENABLED:
            _disable(endpoint, reason=reason, automatic=False)
    return selectors.endpoint_info(endpoint)


def _disable(endpoint: Endpoint, *, reason: str, automatic: bool) -> None:
    endpoint.status = Endpoint.Status.DISABLED
    endpoint.disabled_reason = reason[:300]
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["status", "disabled_reason", "disabled_at", "updated_at"])
    publish(EndpointDisabledEvent(endpoint_id=str(endpoint.pk), reason=reason, automatic=automatic))


def endpoint_enable(*, endpoint_id: UUID) -> EndpointInfo:
    """Send again: the failure count starts over and the endpoint's open deliveries are due
    now (their back-off forgotten). Enabling an enabled endpoint changes nothing."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if endpoint.status == Endpoint.Status.DISABLED:
            now = timezone.now()
            endpoint.status = Endpoint.Status.ENABLED
            endpoint.disabled_reason, endpoint.disabled_at = "", None
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            endpoint.save()
            waiting = Delivery.objects.filter(endpoint=endpoint, status__in=OPEN)
            waiting.update(next_attempt_at=now, updated_at=now)
            ids = list(
                waiting.order_by("created_at").values_list("pk", flat=True)[:RESUME_ENQUEUE_MAX]
            )
            publish(EndpointEnabled(endpoint_id=str(endpoint.pk)))
            transaction.on_commit(lambda: _enqueue_all(ids))
    return selectors.endpoint_info(endpoint)


def endpoint_secret_rotate(
    *, endpoint_id: UUID, previous_valid_for: timedelta | None = None
) -> SecretRotated:
    """A new current secret (returned here once). The previous one still signs for
    `previous_valid_for` (default WEBHOOKS_SECRET_ROTATION_HOURS; zero: stops now, for a
    leaked secret), so every delivery meanwhile carries one signature per valid secret."""
    keep = (
        previous_valid_for
        if previous_valid_for is not None
        else timedelta(hours=settings.WEBHOOKS_SECRET_ROTATION_HOURS)
    )
    secret = _new_secret()
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        now = timezone.now()
        expires = now + keep
        EndpointSecret.objects.filter(endpoint=endpoint, expires_at__lte=now).delete()
        had_previous = EndpointSecret.objects.filter(
            endpoint=endpoint, expires_at__isnull=True
        ).update(expires_at=expires)
        if keep <= timedelta(0):  # a leaked secret: every earlier one stops now
            EndpointSecret.objects.filter(endpoint=endpoint).update(expires_at=now)
        EndpointSecret.objects.create(endpoint=endpoint, secret=secret)
    return SecretRotated(
        endpoint_id=endpoint.pk,
        secret=secret,
        previous_expires_at=expires if had_previous else None,
    )


def endpoint_ping(*, endpoint_id: UUID) -> UUID:
    """Send a `webhooks.ping` test event now (one attempt, not retried); its delivery id."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if endpoint.status != Endpoint.Status.ENABLED:
            raise EndpointDisabled(endpoint_id=str(endpoint.pk))
        now = timezone.now()
        delivery = Delivery.objects.create(
            endpoint=endpoint,
            event_id=uuid7(),
            event_type=PING,
            event_created_at=now,
            payload={"endpoint_id": str(endpoint.pk), "message": "A test event from Finstack."},
            next_attempt_at=now,
        )
        transaction.on_commit(lambda: _enqueue(delivery.pk))
    return delivery.pk


def delivery_replay(*, delivery_id: UUID) -> UUID:
    """A new delivery of the same event (same id, type, created time and data) to the same
    endpoint, on a schedule of its own; the id of the new delivery."""
    with transaction.atomic():
        original = Delivery.objects.filter(pk=delivery_id).first()
        if original is None:
            raise DeliveryNotFound(delivery_id=str(delivery_id))
        endpoint = _locked(original.endpoint_id)
        if endpoint.status != Endpoint.Status.ENABLED:
            raise EndpointDisabled(endpoint_id=str(endpoint.pk))
        now = timezone.now()
        replay = Delivery.objects.create(
            endpoint=endpoint,
            event_id=original.event_id,
            event_type=original.event_type,
            event_created_at=original.event_created_at,
            payload=original.payload,
            replay_of=original,
            next_attempt_at=now,
        )
        transaction.on_commit(lambda: _enqueue(replay.pk))
    return replay.pk


def deliveries_for_event(*, event_id: UUID, event_type: str, payload: dict[str, Any]) -> list[UUID]:
    """One delivery of a domain event per enabled endpoint that wants it (inside the event
    handler's transaction; sent after its commit). Once per endpoint and event."""
    # Every catalogue event passes here (a ledger posting too): with no endpoint wanting it,
    # one indexed read is all it costs.
    wanting = list(selectors.endpoints_for(event_type=event_type).values_list("pk", "namespace"))
    # Looked up once for the event, and only when a key's endpoint wants it.
    moved = (
        namespaces_moved(event_type=event_type, payload=payload)
        if any(namespace for _, namespace in wanting)
        else set()
    )
    endpoint_ids = [
        endpoint_id for endpoint_id, namespace in wanting if not namespace or namespace in moved
    ]
    if not endpoint_ids:
        return []
    created_at = (
        OutboxEvent.objects.filter(pk=event_id).values_list("created_at", flat=True).first()
        or timezone.now()
    )
    now = timezone.now()
    made = []
    for endpoint_id in endpoint_ids:
        delivery, created = Delivery.objects.get_or_create(
            endpoint_id=endpoint_id,
            event_id=event_id,
            replay_of=None,
            defaults={
                "event_type": event_type,
                "event_created_at": created_at,
                "payload": payload,
                "next_attempt_at": now,
            },
        )
        if created:
            made.append(delivery.pk)
    if made:
        transaction.on_commit(lambda: _enqueue_all(made))
    return made


def _enqueue_all(delivery_ids: list[UUID]) -> None:
    for delivery_id in delivery_ids:
        _enqueue(delivery_id)


def _enqueue(delivery_id: UUID, countdown: float | None = None) -> None:
    # By name through the Celery registry (tasks sit above services). A broker that is away
    # loses nothing: the requeue beat job sends what is due.
    options: dict[str, Any] = {"countdown": countdown} if countdown is not None else {}
    try:
        current_app.tasks["webhooks.delivery_attempt"].apply_async(
            (str(delivery_id),), retry=False, **options
        )
    except BROKER_ERRORS as exc:
        log.warning("webhooks: delivery %s left for the sweeper: %s", delivery_id, exc)


def retry_delay(attempt: int) -> float:
    """Seconds after failed attempt number `attempt` (1-based) before the next: doubling from
    WEBHOOKS_RETRY_BASE_SECONDS, capped at WEBHOOKS_RETRY_MAX_SECONDS, plus up to 10 %
    jitter (never less than the schedule, so the schedule is a lower bound)."""
    base = int(settings.WEBHOOKS_RETRY_BASE_SECONDS) << (attempt - 1)  # doubling
    delay = min(base, int(settings.WEBHOOKS_RETRY_MAX_SECONDS))
    return delay * (1 + random.random() / 10)  # noqa: S311 - spreading load, not a secret


def _max_attempts(event_type: str) -> int:
    return 1 if event_type == PING else settings.WEBHOOKS_MAX_ATTEMPTS


def _lease() -> timedelta:
    # Longer than one POST can take (connect and read timeouts) plus the record.
    return timedelta(seconds=max(60, 3 * settings.WEBHOOKS_TIMEOUT_SECONDS))


@dataclasses.dataclass(frozen=True)
class _Claim:
    delivery_id: UUID
    endpoint_id: UUID
    number: int
    url: str
    body: bytes
    headers: dict[str, str]
    event_type: str


@dataclasses.dataclass(frozen=True)
class _Outcome:
    succeeded: bool
    status_code: int | None
    error: str
    response_body: str
    duration_ms: int


def delivery_attempt(*, delivery_id: UUID) -> str:
    """One attempt of a delivery: claim it (committed), POST outside any transaction, record
    what came back. Returns the delivery's status afterwards, or why nothing was sent:
    "missing", "in_flight" (another worker holds it), "not_due", "endpoint_disabled"."""
    claim = _claim(delivery_id)
    if isinstance(claim, str):
        return claim
    outcome = _post(claim)
    status, next_at = _record(claim, outcome)
    if next_at is not None:
        delay = max((next_at - timezone.now()).total_seconds(), 0)
        if delay <= SCHEDULED_MESSAGE_MAX.total_seconds():
            _enqueue(claim.delivery_id, countdown=delay)
    return status


def _claim(delivery_id: UUID) -> _Claim | str:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            exists = Delivery.objects.filter(pk=delivery_id).exists()
            return "in_flight" if exists else "missing"
        if delivery.status not in OPEN:
            return delivery.status
        if delivery.endpoint.status != Endpoint.Status.ENABLED:
            return "endpoint_disabled"
        if delivery.leased_until is not None and delivery.leased_until > now:
            return "in_flight"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + DUE_SLACK:
            return "not_due"
        delivery.attempts += 1
        delivery.leased_until = now + _lease()
        delivery.save(update_fields=["attempts", "leased_until", "updated_at"])
        keys = selectors.secrets_valid(endpoint_id=delivery.endpoint_id, now=now)
    body = json.dumps(
        {
            "id": str(delivery.event_id),
            "type": delivery.event_type,
            "created": int(delivery.event_created_at.timestamp()),
            "data": delivery.payload,
        },
        separators=(",", ":"),
    ).encode()
    at = int(time.time())
    signatures = [signing.sign(body, key, at=at).split(",", 1)[1] for key in keys]
    return _Claim(
        delivery_id=delivery.pk,
        endpoint_id=delivery.endpoint_id,
        number=delivery.attempts,
        url=delivery.endpoint.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Finstack-Event-Id": str(delivery.event_id),
            "Finstack-Event-Type": delivery.event_type,
            "Finstack-Delivery-Id": str(delivery.pk),
            "Finstack-Attempt": str(delivery.attempts),
            "Finstack-Signature": ",".join([f"t={at}", *signatures]),
        },
        event_type=delivery.event_type,
    )


def _post(claim: _Claim) -> _Outcome:
    """The HTTP POST. 2xx is success; any other status (redirects are not followed), a
    refused or timed-out connection, or a refused address is a failure."""
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    try:
        addresses.check_resolved(claim.url)
        with requests.post(
            claim.url,
            data=claim.body,
            headers=claim.headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        ) as response:
            status_code = response.status_code
            excerpt = _excerpt(response)
    except UrlRefused as exc:
        error = f"refused: {exc.message}"
    except requests.Timeout:
        error = f"timed out after {timeout} s"
    except requests.ConnectionError as exc:
        error = f"connection failed: {_reason(exc)}"
    except (requests.RequestException, OSError) as exc:
        error = f"{type(exc).__name__}: {_reason(exc)}"
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not succeeded:
        error = f"HTTP {status_code}"
    return _Outcome(succeeded, status_code, error[:500], excerpt, duration_ms)


def _excerpt(response: requests.Response) -> str:
    try:
        head = next(response.iter_content(chunk_size=4 * EXCERPT_CHARS), b"")
    except requests.RequestException:
        return ""
    return head.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _reason(exc: BaseException) -> str:
    # urllib3 nests the useful part ("Connection refused") inside long reprs.
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker
    return text[:300]


def _record(claim: _Claim, outcome: _Outcome) -> tuple[str, datetime | None]:
    """Store the attempt and the delivery's new state; count the endpoint's failures. Locks
    endpoint, then delivery (the order every writer of both uses)."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=claim.endpoint_id)
        delivery = Delivery.objects.select_for_update().get(pk=claim.delivery_id)
        Attempt.objects.create(
            delivery=delivery,
            number=claim.number,
            at=now,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.response_body,
            duration_ms=outcome.duration_ms,
        )
        superseded = delivery.attempts > claim.number  # our lease ran out; a later one rules
        next_at = None
        if outcome.succeeded:
            if delivery.status in OPEN:
                delivery.status, delivery.delivered_at = Delivery.Status.SUCCEEDED, now
                delivery.next_attempt_at = delivery.leased_until = None
        elif not superseded and delivery.status in OPEN:
            if claim.number >= _max_attempts(claim.event_type):
                delivery.status, delivery.next_attempt_at = Delivery.Status.GIVEN_UP, None
            else:
                delivery.status = Delivery.Status.FAILED
                next_at = now + timedelta(seconds=retry_delay(claim.number))
                delivery.next_attempt_at = next_at
            delivery.leased_until = None
        delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
        delivery.save()
        if outcome.succeeded:
            if endpoint.consecutive_failures or endpoint.failing_since:
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
                endpoint.save(update_fields=["consecutive_failures", "failing_since"])
        else:
            endpoint.consecutive_failures = F("consecutive_failures") + 1
            endpoint.failing_since = endpoint.failing_since or now
            endpoint.save(update_fields=["consecutive_failures", "failing_since"])
            endpoint.refresh_from_db(fields=["consecutive_failures"])
            _failure_rule(endpoint, now)
    return delivery.status, next_at


def _failure_rule(endpoint: Endpoint, now: datetime) -> None:
    """Disable an endpoint whose attempts have all failed, either
    WEBHOOKS_DISABLE_AFTER_FAILURES of them in a row or for WEBHOOKS_DISABLE_AFTER_HOURS since
    the first of them (whichever comes first): operations are alerted."""
    if endpoint.status != Endpoint.Status.ENABLED:
        return
    failures = endpoint.consecutive_failures
    hours = settings.WEBHOOKS_DISABLE_AFTER_HOURS
    failing_for = now - (endpoint.failing_since or now)
    if failures < settings.WEBHOOKS_DISABLE_AFTER_FAILURES and failing_for < timedelta(hours=hours):
        return
    reason = (
        f"{failures} consecutive failed attempts since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    )
    _disable(endpoint, reason=f"automatic: {reason}", automatic=True)
    log.warning("webhooks: endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, reason)
    notifications_services.staff_alert(
        role="operations",
        kind=ALERT_KIND,
        context={"endpoint_id": str(endpoint.pk), "url": endpoint.url, "reason": reason},
    )


def deliveries_requeue(*, batch: int = REQUEUE_BATCH) -> int:
    """Beat job: send again deliveries due for over REQUEUE_GRACE whose message never came
    (the broker lost it, or was away), and those a dead worker left leased. Returns how
    many were sent; each is due again only after another grace period."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status__in=OPEN,
                endpoint__status=Endpoint.Status.ENABLED,
                next_attempt_at__lte=now - REQUEUE_GRACE,
            )
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        Delivery.objects.filter(pk__in=due).update(next_attempt_at=now, updated_at=now)
    for pk in due:
        _enqueue(pk)
    if due:
        log.info("webhooks: re-sent %d due deliveries whose message was lost", len(due))
    return len(due)


# Finished deliveries with their attempts, found through webhook_delivery_finished. One a
# replay still points at waits until the replay itself is pruned (a later run). Attempts go
# in the same statement: their foreign key has no ON DELETE in the database.
DELIVERIES_PRUNE_SQL = """
    WITH doomed AS (
        SELECT d.id FROM webhooks_delivery d
        WHERE d.status IN ('succeeded', 'given_up') AND d.updated_at < %(cutoff)s
          AND NOT EXISTS (SELECT 1 FROM webhooks_delivery r WHERE r.replay_of_id = d.id)
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    ), attempts AS (
        DELETE FROM webhooks_attempt a USING doomed WHERE a.delivery_id = doomed.id
    )
    DELETE FROM webhooks_delivery d USING doomed WHERE d.id = doomed.id
"""


def deliveries_prune(*, batch: int = 5_000, batches: int | None = 20) -> int:
    """Beat job: delete deliveries finished more than WEBHOOKS_DELIVERY_RETENTION_DAYS ago,
    with their attempts, in bounded batches; returns how many. Open ones are never touched."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_DELIVERY_RETENTION_DAYS)
    return retention.delete_in_batches(
        DELIVERIES_PRUNE_SQL, {"cutoff": cutoff}, batch=batch, batches=batches
    )
