"""DRF authentication for /api/v1/: allauth's JWT access tokens, validated against the live
session (logout, password reset and deactivation end it), with the session's last use kept
for the devices list.

allauth's stateful check (`validate_access_token`: the token, then its session, then the
session's user, which must be the token's) is followed step by step, with the session and the
user read in one statement (`apps.accounts.sessions.loading_user`)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from allauth.account.internal.userkit import str_to_user_id
from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from allauth.usersessions.models import UserSession
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts import sessions, token_keys

TOUCH_EVERY = timedelta(seconds=60)
# Sessions this process touched lately (monotonic time): most requests then skip the UPDATE.
_touched: dict[str, float] = {}


class JWTAuthentication(JWTTokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, payload = self._validated(key)
        session_key = token_keys.session_key_from_sid(payload["sid"])
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
