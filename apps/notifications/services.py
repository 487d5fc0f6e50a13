"""Public writes of apps.notifications: turn what happened into messages and deliver them.

`notify()` runs inside the caller's transaction (an event handler's): it stores the in-app
message and one Delivery row per channel the user accepts; sending starts after commit, in a
Celery task per delivery, so a slow or dead provider never holds up the money flow or another
channel. A sweeper re-queues deliveries whose task was lost."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.core import batch, retention
from apps.notifications import channels, selectors
from apps.notifications.catalog import CATEGORIES, CHANNELS, EMAIL, IN_APP, KINDS, PUSH, SMS
from apps.notifications.errors import DeviceNotFound, NotificationNotFound, PreferenceLocked
from apps.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Notification,
    Preference,
    PushDevice,
)
from apps.notifications.rendering import Rendered, render

logger = logging.getLogger(__name__)
TemporaryFailure = channels.TemporaryFailure
SENDING_LEASE = timedelta(minutes=5)  # a delivery "sending" longer than this was orphaned
# Their texts hold one-time codes: kept only until sent, never shown to staff afterwards.
SECRET_KINDS = frozenset({"account_mail", "phone_code"})
REDACTED = "[redacted: held a one-time code]"


def notify(
    *,
    user_id: int,
    kind: str,
    context: dict[str, Any] | None = None,
    event_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> list[UUID]:
    """Queue `kind` for a user on each channel they accept (all, if critical)."""
    spec = KINDS[kind]
    contact = accounts_selectors.user_contact(user_id=user_id)
    if contact is None:
        return []
    text = render(kind, contact.language, {**(context or {}), "name": contact.display_name})
    accepted = selectors.channels_accepted(user_id=user_id, category=spec.category)
    queued = []
    for channel in spec.channels:
        if not (spec.critical or channel in accepted):
            continue
        if channel == IN_APP:
            _in_app(user_id, kind, spec.category, text, event_id, data or {})
            continue
        address = _address(channel, contact)
        if address:
            delivery = _delivery(user_id, kind, channel, address, text, event_id)
            if delivery is not None:
                queued.append(delivery.pk)
    return queued


def account_mail(
    *, template: str, email: str, context: dict[str, Any], fallback: tuple[str, str, str]
) -> UUID:
    """allauth's own mails (codes, notices) through our e-mail channel: our template for it
    when there is one (templates/notifications/account/<name>.txt), else allauth's text."""
    user = accounts_selectors.user_find_by_email(email=email)
    contact = accounts_selectors.user_contact(user_id=user.id) if user else None
    language = contact.language if contact else settings.LANGUAGE_CODE
    name = template.rsplit("/", 1)[-1]
    try:
        text = render(f"account/{name}", language, context)
    except Exception:  # noqa: BLE001 - TemplateDoesNotExist: allauth's text, unbranded
        subject, body, html = fallback
        text = Rendered(title=subject, body=body, sms=body, html=html)
    delivery = _delivery(user.id if user else None, "account_mail", EMAIL, email, text, None)
    return cast(Delivery, delivery).pk  # without an event it is always created


def account_sms(*, phone: str, code: str, user_id: int | None) -> UUID:
    """allauth's phone verification code, by SMS (never subject to preferences)."""
    contact = accounts_selectors.user_contact(user_id=user_id) if user_id else None
    language = contact.language if contact else settings.LANGUAGE_CODE
    text = render("account/phone_code", language, {"code": code})
    return cast(Delivery, _delivery(user_id, "phone_code", SMS, phone, text, None)).pk


def _address(channel: str, contact: accounts_selectors.Contact) -> str:
    if channel == EMAIL:
        return contact.email
    if channel == SMS:
        return contact.phone  # verified numbers only
    if channel == PUSH:
        has_device = PushDevice.objects.filter(user_id=contact.id, active=True).exists()
        return "devices" if has_device else ""
    return ""


def _in_app(
    user_id: int,
    kind: str,
    category: str,
    text: Rendered,
    event_id: str | None,
    data: dict[str, Any],
) -> None:
    fields = {"category": category, "title": text.title[:200], "body": text.body, "data": data}
    if event_id is None:
        Notification.objects.create(user_id=user_id, kind=kind, **fields)
    else:
        Notification.objects.get_or_create(
            user_id=user_id, kind=kind, event_id=event_id, defaults=fields
        )


def _delivery(
    user_id: int | None,
    kind: str,
    channel: str,
    address: str,
    text: Rendered,
    event_id: str | None,
) -> Delivery | None:
    fields = {
        "address": address,
        "subject": text.title[:200],
        "body": text.sms if channel == SMS else text.body,
        "html": text.html if channel == EMAIL else "",
    }
    if event_id is None:
        delivery = Delivery.objects.create(user_id=user_id, kind=kind, channel=channel, **fields)
    else:
        delivery, created = Delivery.objects.get_or_create(
            event_id=event_id, user_id=user_id, channel=channel, kind=kind, defaults=fields
        )
        if not created:
            return None  # this event was already turned into this message
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
    return delivery


def _enqueue(delivery_id: UUID) -> None:
    # By name through the Celery registry (tasks sit above services); no retry loop when the
    # broker is away: the requeue beat job sends it later.
    current_app.tasks["notifications.deliver"].apply_async((str(delivery_id),), retry=False)


def delivery_send(*, delivery_id: UUID) -> str:
    """One attempt: claim, send outside any transaction, record. Raises TemporaryFailure for
    the task to retry; a permanent failure is recorded and not retried."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in (Delivery.Status.SENT, Delivery.Status.FAILED):
            return delivery.status if delivery else "missing"
        fresh = timezone.now() - delivery.updated_at < SENDING_LEASE
        if delivery.status == Delivery.Status.SENDING and fresh:
            return "in_flight"  # another worker has it
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts", "updated_at"])
    message = _message(delivery)
    if not message.to:
        _record(delivery, Delivery.Status.FAILED, error="no active device")
        return Delivery.Status.FAILED
    try:
        sent = channels.backend(delivery.channel).send(message)
    except channels.TemporaryFailure as exc:
        _record(delivery, Delivery.Status.RETRYING, error=str(exc))
        raise
    except channels.PermanentFailure as exc:
        _record(delivery, Delivery.Status.FAILED, error=str(exc))
        return Delivery.Status.FAILED
    if sent.invalid_tokens:
        PushDevice.objects.filter(token__in=sent.invalid_tokens).update(active=False)
    _record(delivery, Delivery.Status.SENT, provider_id=sent.provider_message_id)
    return Delivery.Status.SENT


def delivery_give_up(*, delivery_id: UUID, error: str) -> None:
    delivery = Delivery.objects.get(pk=delivery_id)
    _record(delivery, Delivery.Status.FAILED, error=f"retries exhausted: {error}", log=False)


def _message(delivery: Delivery) -> channels.Message:
    if delivery.channel == PUSH:
        # A push delivery always has its user (deliveries to an address may not).
        tokens = PushDevice.objects.filter(user_id=delivery.user_id, active=True)  # type: ignore[misc]
        to = tuple(tokens.values_list("token", flat=True))
    else:
        to = (delivery.address,)
    return channels.Message(
        to=to,
        subject=delivery.subject,
        body=delivery.body,
        html=delivery.html,
        key=str(delivery.pk),
        data={"kind": delivery.kind},
    )


def _record(
    delivery: Delivery, status: str, error: str = "", provider_id: str = "", log: bool = True
) -> None:
    fields = {"status": status, "last_error": error, "provider_message_id": provider_id}
    final = status in (Delivery.Status.SENT, Delivery.Status.FAILED)
    if final and delivery.kind in SECRET_KINDS:
        fields |= {"subject": REDACTED, "body": REDACTED, "html": ""}
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(**fields, updated_at=timezone.now())
        if log:
            DeliveryAttempt.objects.create(
                delivery_id=delivery.pk,
                number=delivery.attempts,
                status=status,
                error=error,
                provider_message_id=provider_id,
            )


def deliveries_requeue() -> int:
    """Beat job: send again what was queued but whose task never ran (broker down at commit),
    and what a dead worker left "sending". One delivery that cannot be queued is left for
    people (apps.core.batch), not the others."""
    now = timezone.now()
    stuck = Delivery.objects.filter(
        status=Delivery.Status.QUEUED, created_at__lt=now - timedelta(minutes=1)
    ) | Delivery.objects.filter(status=Delivery.Status.SENDING, updated_at__lt=now - SENDING_LEASE)
    resting = batch.resting(REQUEUE_JOB)
    ids = list(stuck.exclude(pk__in=resting).values_list("pk", flat=True)[:1000])
    return len(batch.each(REQUEUE_JOB, ids, _enqueue).results)


REQUEUE_JOB = "notifications.requeue"

# Sent and failed deliveries (the copy of an e-mail, SMS or push that went out, and its
# attempt log) are support's record ("I never got the e-mail"), not the customer's: the
# customer's in-app inbox is Notification, which is never pruned. A delivery still queued,
# sending or retrying is never touched. Found through delivery_status (status, channel);
# attempts go in the same statement (their foreign key has no ON DELETE in the database).
DELIVERIES_PRUNE_SQL = """
    WITH doomed AS (
        SELECT id FROM notifications_delivery
        WHERE status IN ('sent', 'failed') AND updated_at < %(cutoff)s
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    ), attempts AS (
        DELETE FROM notifications_deliveryattempt a USING doomed WHERE a.delivery_id = doomed.id
    )
    DELETE FROM notifications_delivery d USING doomed WHERE d.id = doomed.id
"""


def deliveries_prune(*, batch: int = 5_000, batches: int | None = None) -> int:
    """Beat job: delete deliveries finished more than NOTIFICATIONS_DELIVERY_RETENTION_DAYS
    ago with their attempt logs, in bounded batches (apps.core.retention); returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.NOTIFICATIONS_DELIVERY_RETENTION_DAYS)
    return retention.delete_in_batches(
        DELIVERIES_PRUNE_SQL,
        {"cutoff": cutoff},
        batch=batch,
        batches=batches or settings.NOTIFICATIONS_DELIVERY_PRUNE_BATCHES_PER_RUN,
    )


@transaction.atomic
def preferences_set(*, user_id: int, choices: list[dict[str, Any]]) -> None:
    for choice in choices:
        category, channel, enabled = choice["category"], choice["channel"], choice["enabled"]
        if category not in CATEGORIES or channel not in CHANNELS:
            raise ValueError(f"unknown category/channel {category}/{channel}")
        if not enabled and category in selectors.LOCKED_CATEGORIES:
            raise PreferenceLocked(category=category, channel=channel)
        Preference.objects.update_or_create(
            user_id=user_id, category=category, channel=channel, defaults={"enabled": enabled}
        )


@transaction.atomic
def device_register(*, user_id: int, platform: str, token: str) -> tuple[UUID, bool]:
    """Idempotent by token; a token seen on another account moves here (the phone changed
    hands, or the app was reinstalled under another login)."""
    device, created = PushDevice.objects.update_or_create(
        token=token, defaults={"user_id": user_id, "platform": platform, "active": True}
    )
    return device.pk, created


@transaction.atomic
def device_remove(*, user_id: int, device_id: UUID) -> None:
    deleted, _ = PushDevice.objects.filter(pk=device_id, user_id=user_id).delete()
    if not deleted:
        raise DeviceNotFound()


@transaction.atomic
def notification_mark_read(*, user_id: int, notification_id: UUID) -> None:
    found = Notification.objects.filter(pk=notification_id, user_id=user_id)
    if not found.exists():
        raise NotificationNotFound()
    found.filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notifications_mark_all_read(*, user_id: int) -> int:
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    return unread.update(read_at=timezone.now())


def staff_alert(*, role: str, kind: str, context: dict[str, Any]) -> int:
    """Tell every active staff member with a role (e.g. operations) by e-mail and in-app."""
    sent = 0
    for user_id in accounts_selectors.staff_with_role(role=role):
        notify(user_id=user_id, kind=kind, context=context)
        sent += 1
    return sent
