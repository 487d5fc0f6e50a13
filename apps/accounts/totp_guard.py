"""TOTP hardening allauth (pinned to 65.21.x) has no hook for: a replayed code is logged,
the code that switched TOTP on is spent (allauth checked it without marking it used, so it
logged in again within its window), and staff cannot enrol an authenticator through the app.
tests/security/test_brute_force.py and apps/accounts/tests/test_staff_second_factor.py fail if
an upgrade moves what this wraps."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("apps.accounts.mfa")


def install() -> None:
    from allauth.mfa.totp.internal import auth, flows

    mark_used = auth.TOTP._mark_code_used
    activate = flows.activate_totp

    def _mark_code_used(self: Any, code: str) -> bool:
        if mark_used(self, code):
            return True
        logger.warning("TOTP code replay refused for user %s", self.instance.user_id)
        return False

    def activate_totp(request: Any, form: Any) -> Any:
        result = activate(request, form)
        mark_used(auth.TOTP(result[0]), form.cleaned_data["code"])
        return result

    auth.TOTP._mark_code_used = _mark_code_used
    flows.activate_totp = activate_totp
    _refuse_staff_enrolment()


def _refuse_staff_enrolment() -> None:
    """Staff add no authenticator through the app: whoever has only a staff member's password
    (and mailbox) could otherwise enrol a TOTP of their own and pass the staff API's
    second-factor check. Their TOTP comes from `services.staff_otp_enrol`."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.internal.flows import add
    from allauth.mfa.totp import forms

    from apps.accounts.roles import ROLES

    can_add = add.validate_can_add_authenticator

    def validate_can_add_authenticator(user: Any) -> None:
        if user.is_staff or user.is_superuser or user.groups.filter(name__in=ROLES).exists():
            raise get_adapter().validation_error("staff_totp_managed")
        can_add(user)

    add.validate_can_add_authenticator = validate_can_add_authenticator
    forms.validate_can_add_authenticator = validate_can_add_authenticator  # its own binding
