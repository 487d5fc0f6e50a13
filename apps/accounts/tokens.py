"""allauth's JWT strategy, verifying with every key in `token_keys` (a key rotation logs
nobody out), plus refresh-token reuse detection.

A refresh token is single use (rotation). When one that is genuine and unexpired comes back
after it was rotated, either the client or a thief holds a copy: the whole token family (the
login session behind it) is ended, as the OAuth 2.0 security best current practice advises.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from allauth.core.internal.httpkit import get_authorization_credential
from allauth.headless import app_settings
from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy, internal
from allauth.usersessions.models import UserSession
from django.http import HttpRequest

from apps.accounts import token_keys

logger = logging.getLogger(__name__)


class TokenStrategy(JWTTokenStrategy):
    def get_session_token(self, request: HttpRequest) -> str | None:
        token = super(JWTTokenStrategy, self).get_session_token(request)  # X-Session-Token
        if token:
            return token
        payload = self._get_access_token(request)
        return token_keys.session_key_from_sid(payload["sid"]) if payload else None

    def _get_access_token(self, request: HttpRequest) -> dict[str, Any] | None:
        credential = get_authorization_credential(
            request, app_settings.JWT_AUTHORIZATION_HEADER_SCHEME
        )
        payload = token_keys.decode_token(credential, "access") if credential else None
        if payload is None:
            return None
        session = token_keys.token_session(payload)
        if session is None or token_keys.token_user(payload, session) is None:
            return None
        return payload

    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        payload = token_keys.decode_token(refresh_token, "refresh")
        session = token_keys.token_session(payload) if payload else None
        if payload is None or session is None:
            return None
        user = internal.validate_token_user(payload, session)
        expires = internal.get_refresh_token_state(session).get(payload["jti"])
        if user is None or expires is None or expires <= time.time():
            if session.session_key:
                logger.warning("refresh token reused; ending session of user %s", payload["sub"])
                session.delete()
                UserSession.objects.filter(session_key=session.session_key).delete()
            return None
        access = internal.create_access_token(user, session, self.get_claims(user))
        refresh = refresh_token
        if app_settings.JWT_ROTATE_REFRESH_TOKEN:  # single use, as allauth's strategy does
            internal.invalidate_refresh_token(session, payload)
            refresh = internal.create_refresh_token(user, session)
        session.save()
        return access, refresh
