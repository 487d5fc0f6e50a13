"""Public reads of apps.webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.webhooks.errors import DeliveryNotFound, EndpointNotFound
from apps.webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret

OPEN = (Delivery.Status.PENDING, Delivery.Status.FAILED)


@dataclass(frozen=True)
class EndpointInfo:
    id: UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    status: str
    disabled_reason: str
    disabled_at: datetime | None
    created_at: datetime
    created_by_id: int | None
    consecutive_failures: int
    namespace: str = ""


@dataclass(frozen=True)
class AttemptInfo:
    number: int
    at: datetime
    succeeded: bool
    status_code: int | None
    error: str
    response_body: str
    duration_ms: int


@dataclass(frozen=True)
class DeliveryInfo:
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    replay_of_id: UUID | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: tuple[AttemptInfo, ...] = ()


def endpoint_info(endpoint: Endpoint) -> EndpointInfo:
    return EndpointInfo(
        id=endpoint.pk,
        url=endpoint.url,
        description=endpoint.description,
        event_types=tuple(endpoint.event_types),
        status=endpoint.status,
        disabled_reason=endpoint.disabled_reason,
        disabled_at=endpoint.disabled_at,
        created_at=endpoint.created_at,
        created_by_id=endpoint.created_by_id,
        consecutive_failures=endpoint.consecutive_failures,
        namespace=endpoint.namespace,
    )


def endpoint_get(*, endpoint_id: UUID) -> EndpointInfo:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(endpoint_id=str(endpoint_id))
    return endpoint_info(endpoint)


def endpoint_list(*, status: str | None = None) -> QuerySet[Endpoint]:
    rows = Endpoint.objects.order_by("-created_at")
    return rows.filter(status=status) if status else rows


def endpoints_for(*, event_type: str) -> QuerySet[Endpoint]:
    """Enabled endpoints subscribed to `event_type` (empty list or "*": every event)."""
    return Endpoint.objects.filter(status=Endpoint.Status.ENABLED).filter(
        Q(event_types=[]) | Q(event_types__contains=["*"]) | Q(event_types__contains=[event_type])
    )


def secrets_valid(*, endpoint_id: UUID, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now, newest first: the current one, then rotated-out
    ones not yet expired."""
    now = now or timezone.now()
    rows = EndpointSecret.objects.filter(endpoint_id=endpoint_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    ordered = rows.order_by("-created_at", "-pk")
    return [row.secret for row in ordered]


def delivery_list(
    *, endpoint_id: UUID | None = None, status: str | None = None, event_id: UUID | None = None
) -> QuerySet[Delivery]:
    rows = Delivery.objects.order_by("-created_at")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status:
        rows = rows.filter(status=status)
    if event_id is not None:
        rows = rows.filter(event_id=event_id)
    return rows


def delivery_get(*, delivery_id: UUID) -> DeliveryInfo:
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise DeliveryNotFound(delivery_id=str(delivery_id))
    attempts = tuple(
        AttemptInfo(
            number=a.number,
            at=a.at,
            succeeded=a.succeeded,
            status_code=a.status_code,
            error=a.error,
            response_body=a.response_body,
            duration_ms=a.duration_ms,
        )
        for a in attempt_list(delivery_id=delivery_id)
    )
    return DeliveryInfo(
        id=delivery.pk,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        replay_of_id=delivery.replay_of_id,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        attempt_log=attempts,
    )


def attempt_list(*, delivery_id: UUID) -> QuerySet[Attempt]:
    return Attempt.objects.filter(delivery_id=delivery_id).order_by("number")


def deliveries_given_up(*, hours: int = 24) -> int:
    """Deliveries that exhausted their schedule in the last `hours` (the /metrics gauge)."""
    since = timezone.now() - timedelta(hours=hours)
    return Delivery.objects.filter(status=Delivery.Status.GIVEN_UP, updated_at__gte=since).count()


def endpoints_disabled() -> int:
    return Endpoint.objects.filter(status=Endpoint.Status.DISABLED).count()


def endpoint_of(*, endpoint_id: UUID, namespace: str) -> EndpointInfo:
    """An endpoint the namespace's API keys registered; others answer as absent."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id, namespace=namespace).exclude(namespace="")
    found = endpoint.first()
    if found is None:
        raise EndpointNotFound(endpoint_id=str(endpoint_id))
    return endpoint_info(found)


def endpoints_of(*, namespace: str) -> QuerySet[Endpoint]:
    return (
        Endpoint.objects.filter(namespace=namespace)
        .exclude(namespace="")
        .order_by("-created_at", "-id")
    )


def delivery_of(*, delivery_id: UUID, namespace: str) -> DeliveryInfo:
    owned = Delivery.objects.filter(pk=delivery_id, endpoint__namespace=namespace)
    if not namespace or not owned.exists():
        raise DeliveryNotFound(delivery_id=str(delivery_id))
    return delivery_get(delivery_id=delivery_id)
