"""DRF permissions other apps reuse: money leaving the platform, staff roles."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.accounts import selectors, token_keys


class MfaRequired(PermissionDenied):
    default_code = "mfa_required"
    default_detail = "Turn on two-factor authentication to do this."


class ReauthenticationRequired(PermissionDenied):
    default_code = "reauthentication_required"
    default_detail = "Confirm it is you: re-authenticate, then retry within a few minutes."


def token_session_request(request: Any) -> HttpRequest | None:
    """A request whose session is the login session: the one behind the JWT access token, or
    the browser's own (the web app, authenticated by its session cookie)."""
    if isinstance(getattr(request, "successful_authenticator", None), SessionAuthentication):
        return request._request
    payload = request.auth if isinstance(request.auth, dict) else None
    session = token_keys.token_session(payload) if payload else None
    if session is None:
        return None
    carrier = HttpRequest()
    carrier.session = session
    return carrier


class RecentStrongAuth(BasePermission):
    """Money leaving the platform (withdrawals, a new funding source): two-factor turned on
    and a login or re-authentication within ACCOUNT_REAUTHENTICATION_TIMEOUT seconds."""

    error_codes = (MfaRequired.default_code, ReauthenticationRequired.default_code)

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not is_mfa_enabled(user):
            raise MfaRequired()
        carrier = token_session_request(request)
        records = get_authentication_records(carrier, user) if carrier else []
        newest = max((r.get("at", 0) for r in records), default=0)
        if time.time() - newest > settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
            raise ReauthenticationRequired()
        return True


class StaffMfaRequired(MfaRequired):
    default_detail = (
        "Staff work needs a sign-in with your authenticator app: log in again and complete "
        "the two-factor step."
    )


class StaffReauthenticationRequired(ReauthenticationRequired):
    default_detail = (
        "Confirm it is you with your authenticator app "
        "(POST /_allauth/app/v1/auth/2fa/reauthenticate), then retry."
    )


def totp_passed_at(request: Any) -> float | None:
    """When the login behind the access token last passed a TOTP code (at sign-in or a TOTP
    re-authentication), or None. A password, an e-mailed code or a recovery code is not it."""
    carrier = token_session_request(request)
    records = get_authentication_records(carrier, request.user) if carrier else []
    times = [
        r.get("at", 0)
        for r in records
        if r.get("method") == "mfa" and r.get("type") == Authenticator.Type.TOTP
    ]
    return max(times, default=None)  # seconds since the epoch, as allauth records them


def has_role(*roles: str) -> type[BasePermission]:
    """Staff with one of these roles (or a superuser), signed in with TOTP; a write also needs
    the TOTP step within STAFF_TOTP_MAX_AGE seconds. Staff power never rests on a password (or
    an e-mailed code) alone, whichever login flow issued the token."""

    class HasRole(BasePermission):
        message = "Your role does not allow this."
        error_codes = (StaffMfaRequired.default_code, StaffReauthenticationRequired.default_code)

        def has_permission(self, request: Any, view: Any) -> bool:
            user = request.user
            if not (
                user.is_authenticated and selectors.staff_has_role(user_id=user.pk, roles=roles)
            ):
                return False
            passed_at = totp_passed_at(request)
            if passed_at is None:
                raise StaffMfaRequired()
            stale = time.time() - passed_at > settings.STAFF_TOTP_MAX_AGE
            if request.method not in SAFE_METHODS and stale:
                raise StaffReauthenticationRequired()
            return True

    HasRole.__name__ = f"HasRole_{'_'.join(roles)}"
    return HasRole
