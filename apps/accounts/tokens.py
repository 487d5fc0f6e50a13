"""allauth's JWT strategy plus refresh-token reuse detection.

A refresh token is single use (rotation). When one that is genuine and unexpired comes back
after it was rotated, either the client or a thief holds a copy: the whole token family (the
login session behind it) is ended, as the OAuth 2.0 security best current practice advises.
"""

from __future__ import annotations

import logging

from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy, internal
from allauth.usersessions.models import UserSession

logger = logging.getLogger(__name__)


class TokenStrategy(JWTTokenStrategy):
    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        tokens = super().refresh_token(refresh_token)
        if tokens is None:
            payload = internal.decode_token(refresh_token, "refresh")
            session = internal.get_token_session(payload) if payload else None
            if session is not None and session.session_key:
                logger.warning("refresh token reused; ending session of user %s", payload["sub"])
                session.delete()
                UserSession.objects.filter(session_key=session.session_key).delete()
        return tokens
