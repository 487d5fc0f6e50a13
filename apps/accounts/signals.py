"""allauth's signals turned into Finstack domain events (inside the request's transaction,
see AllauthMiddleware)."""

from __future__ import annotations

import hashlib
from typing import Any

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.mfa import signals as mfa_signals
from django.db import transaction

from apps.accounts.events import MfaChanged, NewDeviceLogin, PasswordChanged
from apps.accounts.models import KnownDevice
from apps.core.events import publish


def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    agent = get_adapter().get_http_user_agent(request)[:255]
    ip = get_adapter().get_client_ip(request)
    digest = hashlib.sha256(agent.encode()).hexdigest()
    with transaction.atomic():
        first_ever = not KnownDevice.objects.filter(user=user).exists()
        _, created = KnownDevice.objects.get_or_create(
            user=user, fingerprint=digest, defaults={"name": agent}
        )
        if created and not first_ever:
            publish(NewDeviceLogin(user_id=user.pk, device=agent, ip=ip))


def _on_password(how: str) -> Any:
    def receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            publish(PasswordChanged(user_id=user.pk, how=how))

    return receiver


def _on_mfa(change: str) -> Any:
    def receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        authenticator = kwargs.get("authenticator")
        kind = getattr(authenticator, "type", "mfa")
        with transaction.atomic():
            publish(MfaChanged(user_id=user.pk, change=f"{kind}_{change}"))

    return receiver


_receivers = {
    "logged_in": _on_logged_in,
    "changed": _on_password("change"),
    "reset": _on_password("reset"),
    "mfa_added": _on_mfa("added"),
    "mfa_removed": _on_mfa("removed"),
    "mfa_reset": _on_mfa("reset"),
}


def connect() -> None:
    account_signals.user_logged_in.connect(_receivers["logged_in"], dispatch_uid="fs-login")
    account_signals.password_changed.connect(_receivers["changed"], dispatch_uid="fs-pw-chg")
    account_signals.password_reset.connect(_receivers["reset"], dispatch_uid="fs-pw-reset")
    mfa_signals.authenticator_added.connect(_receivers["mfa_added"], dispatch_uid="fs-mfa-add")
    mfa_signals.authenticator_removed.connect(_receivers["mfa_removed"], dispatch_uid="fs-mfa-rm")
    mfa_signals.authenticator_reset.connect(_receivers["mfa_reset"], dispatch_uid="fs-mfa-reset")
