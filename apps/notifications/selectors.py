"""Public reads of apps.notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.notifications.catalog import CATEGORIES, CHANNELS, KINDS, SECURITY
from apps.notifications.models import Notification, Preference, PushDevice

# Categories whose messages cannot be switched off on any channel.
LOCKED_CATEGORIES = frozenset({SECURITY})


def channels_accepted(*, user_id: int, category: str) -> set[str]:
    """Channels the user accepts for a category: on unless switched off."""
    off = Preference.objects.filter(user_id=user_id, category=category, enabled=False)
    return set(CHANNELS) - set(off.values_list("channel", flat=True))


def preferences(*, user_id: int) -> list[dict[str, Any]]:
    chosen = {
        (p.category, p.channel): p.enabled for p in Preference.objects.filter(user_id=user_id)
    }
    offered = {(k.category, c) for k in KINDS.values() for c in k.channels}
    return [
        {
            "category": category,
            "channel": channel,
            "enabled": chosen.get((category, channel), True),
            "locked": category in LOCKED_CATEGORIES,
        }
        for category in CATEGORIES
        for channel in CHANNELS
        if (category, channel) in offered
    ]


def inbox(*, user_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user_id=user_id)
    return rows.filter(read_at__isnull=True) if unread_only else rows


def unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def devices(*, user_id: int) -> QuerySet[PushDevice]:
    return PushDevice.objects.filter(user_id=user_id, active=True).order_by("-created_at")
