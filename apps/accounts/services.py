"""Public writes of apps.accounts: other apps use only services, selectors and events."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.sessions.models import Session
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.accounts import errors
from apps.accounts.events import UserClosed, UserCreated
from apps.accounts.models import ApiKey, User
from apps.core.errors import NotFound
from apps.core.events import publish
from apps.core.machine import SCOPES

__all__ = [
    "ApiKeyIssued",
    "api_key_create",
    "api_key_revoke",
    "api_key_roll",
    "api_key_terms_check",
    "api_key_touch",
    "AccountBusy",
    "AccountNotEmpty",
    "closure_check_register",
    "mail_sender",
    "mail_sender_register",
    "sms_sender",
    "sms_sender_register",
    "user_phone_set",
    "sessions_end",
    "user_close",
    "user_create",
    "user_update_profile",
]
AccountNotEmpty = errors.AccountNotEmpty
AccountBusy = errors.AccountBusy
log = logging.getLogger(__name__)

# Apps above accounts (wallets: "no money left") veto a closure through these, so accounts
# need not import them. Each raises a DomainError to refuse.
ClosureCheck = Callable[[int], None]
_closure_checks: list[ClosureCheck] = []

# Notifications (above accounts) registers how account mails are sent; until one is
# registered, allauth sends them itself.
MailSender = Callable[..., object]
_mail_senders: list[MailSender] = []

PROFILE_FIELDS = ("first_name", "last_name", "default_currency", "language")


_sms_senders: list[MailSender] = []


def mail_sender_register(sender: MailSender) -> None:
    _mail_senders[:] = [sender]


def mail_sender() -> MailSender | None:
    return _mail_senders[0] if _mail_senders else None


def sms_sender_register(sender: MailSender) -> None:
    _sms_senders[:] = [sender]


def sms_sender() -> MailSender | None:
    return _sms_senders[0] if _sms_senders else None


def closure_check_register(check: ClosureCheck) -> None:
    if check not in _closure_checks:
        _closure_checks.append(check)


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    default_currency: str = "EUR",
    email_verified: bool = False,
    **fields: object,
) -> int:
    """Create a user outside the sign-up flow (operators, demo data) and announce it (a default
    wallet and a welcome message hang off it). `email_verified` skips the e-mailed code."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(
        email=email, password=password, default_currency=default_currency, **fields
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    publish(UserCreated(user_id=user.pk, email=user.email, default_currency=default_currency))
    return int(user.pk)


@transaction.atomic
def user_update_profile(*, user_id: int, **changes: str) -> None:
    user = User.objects.select_for_update().get(pk=user_id)
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            raise ValueError(f"{field} is not a profile field")
        setattr(user, field, value)
    user.save(update_fields=list(changes))


@transaction.atomic
def user_phone_set(*, user_id: int, phone: str, verified: bool) -> None:
    """Set (or verify) a user's phone number; allauth's phone flow calls this once the SMS code
    matched. A number belongs to one account."""
    user = User.objects.select_for_update().get(pk=user_id)
    user.phone, user.phone_verified = phone, verified
    try:
        with transaction.atomic():
            user.save(update_fields=["phone", "phone_verified"])
    except IntegrityError as exc:
        if "user_phone_unique" in str(exc):
            raise errors.PhoneTaken() from exc
        raise


@transaction.atomic
def user_close(*, user_id: int) -> None:
    """Close an account: refused while it holds money; login disabled, every session and token
    ended; the data is kept for record keeping."""
    user = User.objects.select_for_update().get(pk=user_id)
    if user.closed_at is not None:
        raise errors.AccountClosed()
    for check in _closure_checks:
        check(user_id)
    user.closed_at = timezone.now()
    user.is_active = False
    user.save(update_fields=["closed_at", "is_active"])
    sessions_end(user_id=user_id)
    publish(UserClosed(user_id=user_id))


def sessions_end(*, user_id: int) -> int:
    """End every login session (and so every token family) of a user."""
    from allauth.usersessions.models import UserSession

    keys = list(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    UserSession.objects.filter(user_id=user_id).delete()
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    return deleted


@transaction.atomic
def roles_ensure() -> dict[str, int]:
    """Create the staff role groups and give each exactly its permissions (idempotent; runs
    after every migrate). Permissions of apps not built yet are added once they exist."""
    from django.contrib.auth.models import Group, Permission

    from apps.accounts.roles import PERMISSIONS

    granted = {}
    for role, names in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = {tuple(name.split(".", 1)) for name in names}
        perms = [
            p
            for p in Permission.objects.select_related("content_type").filter(
                codename__in={codename for _, codename in wanted}
            )
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
        granted[role] = len(perms)
    return granted


@transaction.atomic
def staff_user_create(*, email: str, role: str, password: str | None = None) -> int:
    """A staff member with one role; they enrol TOTP before the admin lets them in."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ROLES

    if role not in ROLES and role != "superuser":
        raise ValueError(f"Unknown role {role!r}; one of {', '.join(ROLES)} or superuser.")
    user = User.objects.create_user(
        email=email,
        password=password,
        is_staff=True,
        is_superuser=role == "superuser",
    )
    if role != "superuser":
        user.groups.add(Group.objects.get(name=role))
    return int(user.pk)


@transaction.atomic
@dataclass(frozen=True)
class StaffEnrolment:
    otpauth_uri: str  # for the authenticator app
    backup_tokens: tuple[str, ...]


def staff_otp_enrol(*, user_id: int) -> StaffEnrolment:
    """A confirmed TOTP device and ten static backup tokens for the admin (django-otp), and
    the same TOTP secret as the app login's second factor (allauth.mfa): one authenticator
    app entry for both. Staff cannot enrol a TOTP of their own through the app (a password
    alone would then be enough to add the "second" factor); this is how they get one."""
    import base64

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get(pk=user_id)
    totp = TOTPDevice.objects.create(user=user, name="admin", confirmed=True)
    # Same algorithm on both sides: SHA-1, 30-second steps, 6 digits (the defaults of each).
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, base64.b32encode(totp.bin_key).decode())
    static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    tokens = [StaticToken.random_token() for _ in range(10)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=t) for t in tokens)
    return StaffEnrolment(otpauth_uri=totp.config_url, backup_tokens=tuple(tokens))


# --- API keys (machine credentials) -----------------------------------------------------


@dataclass(frozen=True)
class ApiKeyIssued:
    key_id: UUID
    prefix: str
    key: str  # the whole key: shown once, never stored


def _new_key() -> tuple[str, str, str]:
    prefix = "fsk_" + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return prefix, key, hashlib.sha256(key.encode()).hexdigest()


def api_key_terms_check(*, namespace: str, scopes: list[str], rate: str) -> None:
    """Refuse (InvalidApiKeyTerms) unknown scopes, a malformed namespace or rate."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise errors.InvalidApiKeyTerms(scopes=unknown or ["at least one scope"])
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", namespace):
        raise errors.InvalidApiKeyTerms(namespace="lowercase letters, digits and '-'")
    if not re.fullmatch(r"[1-9][0-9]{0,6}/(s|sec|m|min|h|hour|d|day)", rate):
        raise errors.InvalidApiKeyTerms(rate="N/s, N/min, N/hour or N/day")


@transaction.atomic
def api_key_create(
    *,
    name: str,
    namespace: str,
    scopes: list[str],
    created_by_id: int | None,
    rate: str = "600/min",
    expires_at: datetime | None = None,
) -> ApiKeyIssued:
    api_key_terms_check(namespace=namespace, scopes=scopes, rate=rate)
    prefix, key, key_hash = _new_key()
    api_key = ApiKey.objects.create(
        name=name,
        namespace=namespace,
        prefix=prefix,
        key_hash=key_hash,
        scopes=sorted(set(scopes)),
        rate=rate,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    log.info("api key created", extra={"api_key_id": str(api_key.pk), "by": created_by_id})
    return ApiKeyIssued(api_key.pk, prefix, key)


@transaction.atomic
def api_key_revoke(*, key_id: UUID, revoked_by_id: int | None) -> None:
    """Ends the key at once; idempotent (the first revocation's time and author stay)."""
    ApiKey.objects.filter(pk=key_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by_id=revoked_by_id
    )
    log.info("api key revoked", extra={"api_key_id": str(key_id), "by": revoked_by_id})


@transaction.atomic
def api_key_roll(*, key_id: UUID, rolled_by_id: int | None, overlap: timedelta) -> ApiKeyIssued:
    """A successor with the same name, namespace, scopes and rate; the old key keeps working
    for `overlap` (the callers' deploy window), then expires (Stripe's "roll key")."""
    old = ApiKey.objects.select_for_update().filter(pk=key_id).first()
    if old is None:
        raise NotFound()
    if old.revoked_at is not None:
        raise errors.ApiKeyRevoked()
    issued = api_key_create(
        name=old.name,
        namespace=old.namespace,
        scopes=old.scopes,
        created_by_id=rolled_by_id,
        rate=old.rate,
        expires_at=old.expires_at,
    )
    ends = timezone.now() + overlap
    if old.expires_at is None or old.expires_at > ends:
        ApiKey.objects.filter(pk=key_id).update(expires_at=ends)
    return issued


_TOUCH_EVERY = timedelta(seconds=60)


def api_key_touch(*, key_id: UUID, ip: str | None) -> None:
    """Keep the key's last use: at most one write a minute, whatever the request rate."""
    now = timezone.now()
    ApiKey.objects.filter(pk=key_id).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - _TOUCH_EVERY)
    ).update(last_used_at=now, last_used_ip=ip)
