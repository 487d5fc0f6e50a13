"""Public reads of apps.accounts."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.utils import timezone

from apps.accounts.models import ApiKey, User
from apps.accounts.roles import ROLES
from apps.core.machine import MachinePrincipal


@dataclass(frozen=True)
class UserRef:
    id: int
    email: str
    display_name: str
    is_active: bool


def _ref(user: User) -> UserRef:
    name = f"{user.first_name} {user.last_name}".strip() or user.email.split("@")[0]
    return UserRef(user.pk, user.email, name, user.is_active)


def user_get(*, user_id: int) -> UserRef | None:
    user = User.objects.filter(pk=user_id).first()
    return _ref(user) if user else None


def user_find_by_email(*, email: str) -> UserRef | None:
    user = User.objects.filter(email__iexact=email.strip()).first()
    return _ref(user) if user else None


def user_find_by_phone(*, phone: str) -> UserRef | None:
    user = User.objects.filter(phone=phone.strip(), phone_verified=True).first() if phone else None
    return _ref(user) if user else None


@dataclass(frozen=True)
class Contact:
    id: int
    email: str
    phone: str  # "" unless verified
    language: str
    display_name: str
    is_active: bool


def user_contact(*, user_id: int) -> Contact | None:
    """How to reach a user: verified phone only, their language."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    phone = user.phone if user.phone_verified else ""
    return Contact(
        user.pk, user.email, phone, user.language, _ref(user).display_name, user.is_active
    )


def users_closed_before(*, when: Any) -> list[int]:
    return list(User.objects.filter(closed_at__lt=when).values_list("pk", flat=True))


def users_by_id(*, user_ids: set[int]) -> dict[int, UserRef]:
    return {u.pk: _ref(u) for u in User.objects.filter(pk__in=user_ids)}


def user_roles(*, user_id: int) -> list[str]:
    names = User.objects.filter(pk=user_id, groups__name__in=ROLES).values_list(
        "groups__name", flat=True
    )
    return sorted(names)


def staff_with_role(*, role: str) -> list[int]:
    staff = User.objects.filter(is_active=True, is_staff=True, groups__name=role)
    return list(staff.values_list("pk", flat=True))


def staff_has_role(*, user_id: int, roles: tuple[str, ...]) -> bool:
    """An active staff member with one of these roles, or a superuser."""
    staff = User.objects.filter(pk=user_id, is_active=True, is_staff=True)
    return staff.filter(is_superuser=True).exists() or staff.filter(groups__name__in=roles).exists()


# Apps above accounts add to the profile (KYC: the tier) through these; accounts never
# imports them.
ProfileExtra = Callable[[int], dict[str, Any]]
_profile_extras: list[ProfileExtra] = []


def profile_extra_register(extra: ProfileExtra) -> None:
    if extra not in _profile_extras:
        _profile_extras.append(extra)


def profile_get(*, user_id: int) -> dict[str, Any]:
    user = User.objects.get(pk=user_id)
    profile: dict[str, Any] = {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "default_currency": user.default_currency,
        "language": user.language,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "roles": user_roles(user_id=user_id),
        "mfa_enabled": is_mfa_enabled(user),
        "date_joined": user.date_joined,
    }
    for contribute in _profile_extras:
        profile.update(contribute(user_id))
    return profile


def _idempotency_id(namespace: str) -> int:
    """A negative 63-bit number per namespace: never a user's id, the same for a rolled key."""
    digest = hashlib.sha256(f"api-namespace:{namespace}".encode()).digest()
    return -(int.from_bytes(digest[:8], "big") >> 1) - 1


def api_key_principal(*, key: str) -> MachinePrincipal | None:
    """The principal of a live key (not revoked, not expired), else None."""
    prefix = key[:12]
    row = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if row is None or (row.expires_at is not None and row.expires_at <= timezone.now()):
        return None
    if not hmac.compare_digest(row.key_hash, hashlib.sha256(key.encode()).hexdigest()):
        return None
    return MachinePrincipal(
        key_id=row.pk,
        prefix=row.prefix,
        namespace=row.namespace,
        scopes=frozenset(row.scopes),
        rate=row.rate,
        idempotency_id=_idempotency_id(row.namespace),
    )
