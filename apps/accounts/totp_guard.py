"""TOTP hardening allauth (pinned to 65.21.x) has no hook for: a replayed code is logged, and
the code that switched TOTP on is spent (allauth checked it without marking it used, so it
logged in again within its window). tests/security/test_brute_force.py fails if an upgrade
moves what this wraps."""

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

    auth.TOTP._mark_code_used = _mark_code_used  # type: ignore[method-assign]
    flows.activate_totp = activate_totp
