"""DRF authentication for /api/v1/: allauth's JWT access tokens, validated against the live
session (logout, password reset and deactivation end it), with the session's last use kept
for the devices list.

allauth's stateful check (`validate_access_token`: the token, then its session, then the
session's user, which must be the token's) is followed step by step, with the session and the
user read in one statement (`apps.accounts.sessions.loading_user`)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from allauth.account.internal.userkit import str_to_user_id
from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts import selectors, services, sessions, token_keys
from apps.core.machine import MachinePrincipal

log = logging.getLogger(__name__)
API_KEY_PREFIX = "fsk_"

TOUCH_EVERY = timedelta(seconds=60)
# Sessions this process touched lately (monotonic time): most requests then skip the UPDATE.
_touched: dict[str, float] = {}
_keys_touched: dict[Any, float] = {}  # the same for API keys


class JWTAuthentication(JWTTokenAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        if _bearer(request).startswith(API_KEY_PREFIX):
            return None  # an API key: ApiKeyAuthentication's
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, payload = self._validated(key)
        session_key = token_keys.session_key_from_sid(payload["sid"])
        if session_key is None:  # _validated found the session, so only a forged sid lands here
            raise AuthenticationFailed("Invalid token.")
        tick = time.monotonic()
        if tick - _touched.get(session_key, -1e9) < TOUCH_EVERY.total_seconds():
            return user, payload
        if len(_touched) > 10_000:
            _touched.clear()
        _touched[session_key] = tick
        now = timezone.now()
        # At most one write a minute per session (other processes may have just written).
        UserSession.objects.filter(
            session_key=session_key, last_seen_at__lt=now - TOUCH_EVERY
        ).update(last_seen_at=now)
        return user, payload

    @staticmethod
    def _validated(key: str) -> tuple[Any, dict[str, Any]]:
        payload = token_keys.decode_token(key, "access")
        if payload is None:
            raise AuthenticationFailed("Invalid token.")
        try:
            user_id = str_to_user_id(payload["sub"])
        except ValidationError as error:
            raise AuthenticationFailed("Invalid token.") from error
        with sessions.loading_user(user_id):
            session = token_keys.token_session(payload)
            user = token_keys.token_user(payload, session) if session else None
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        return user, payload

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


def _bearer(request: Any) -> str:
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer fsk_...`: the key's principal with an anonymous user, so only
    the routes with `required_scopes` (apps.core.api.machine.ScopeRequired) accept it. Every
    use is logged with the key's id; its last use is kept, written at most once a minute."""

    def authenticate(self, request: Any) -> tuple[Any, MachinePrincipal] | None:
        key = _bearer(request)
        if not key.startswith(API_KEY_PREFIX):
            return None
        caller = selectors.api_key_principal(key=key)
        if caller is None:
            log.warning("api key refused", extra={"api_key_prefix": key[:12]})
            raise AuthenticationFailed("Invalid, expired or revoked API key.")
        log.info(
            "api key used",
            extra={
                "api_key_id": str(caller.key_id),
                "namespace": caller.namespace,
                "method": request.method,
                "path": request.path,
            },
        )
        tick = time.monotonic()
        if tick - _keys_touched.get(caller.key_id, -1e9) >= TOUCH_EVERY.total_seconds():
            if len(_keys_touched) > 10_000:
                _keys_touched.clear()
            _keys_touched[caller.key_id] = tick
            services.api_key_touch(key_id=caller.key_id, ip=request.META.get("REMOTE_ADDR"))
        return AnonymousUser(), caller

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'
