"""The mobile tokens' keys, so that rotating one logs nobody out.

- Signing: `JWT_PRIVATE_KEY` signs (allauth writes its RFC 7638 thumbprint as the `kid`
  header). `JWT_PREVIOUS_KEYS` (PEM blocks, private or public) still verify tokens signed
  before a rotation, never sign, until they are retired; `/.well-known/jwks.json` publishes
  the public half of all of them.
- The session id inside a token is encrypted with a key derived from `SECRET_KEY` (allauth);
  it is read with `SECRET_KEY_FALLBACKS` too, so a SECRET_KEY rotation keeps the logins.

allauth verifies with its one key only; these functions replace its `decode_token` and
`session_key_from_sid` wherever Finstack reads a token (the DRF authentication and the token
strategy), and keep every check allauth makes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from allauth.core.internal import jwkkit
from allauth.headless.internal.sessionkit import lookup_session
from allauth.headless.tokens.strategies.jwt import internal
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase

ALGORITHM = "RS256"
SESSION_KEY = re.compile(f"[{re.escape(VALID_KEY_CHARS)}]{{8,64}}")


@dataclass(frozen=True)
class VerifyingKey:
    kid: str
    key: rsa.RSAPublicKey
    jwk: dict[str, Any]


def _public(pem: str) -> rsa.RSAPublicKey:
    data = pem.encode()
    if b"PRIVATE KEY" in data:
        key: Any = serialization.load_pem_private_key(data, password=None).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("JWT keys must be RSA keys (RS256).")
    return key


@cache
def _keys(current: str, previous: tuple[str, ...]) -> dict[str, VerifyingKey]:
    found: dict[str, VerifyingKey] = {}
    for pem in (current, *previous):
        public = _public(pem)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        kid = jwkkit.jwk_thumbprint(jwk)
        jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
        found.setdefault(kid, VerifyingKey(kid, public, jwk))
    return found


def verifying_keys() -> dict[str, VerifyingKey]:
    """The keys tokens are verified with, by kid; the signing key first."""
    return _keys(settings.HEADLESS_JWT_PRIVATE_KEY, tuple(settings.JWT_PREVIOUS_KEYS))


def jwks() -> dict[str, Any]:
    return {"keys": [key.jwk for key in verifying_keys().values()]}


def decode_token(token: str, use: str) -> dict[str, Any] | None:
    """The token's claims if a known key signed it and it is an unexpired `use` token."""
    keys = verifying_keys()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if kid else next(iter(keys.values()))
        if key is None:
            return None
        payload = jwt.decode(
            token,
            key=key.key,
            algorithms=[ALGORITHM],
            options={"verify_signature": True, "verify_exp": True},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("token_use") != use:
        return None
    if not all(isinstance(payload.get(claim), str) for claim in ("jti", "sub", "sid")):
        return None
    return payload


def session_key_from_sid(sid: str) -> str | None:
    """allauth's AES-CTR session id, tried with SECRET_KEY and then each fallback. The cipher
    has no integrity of its own (the JWT's signature is it), so a wrong key is told apart by
    its result not being a session key."""
    try:
        data = base64.b64decode(sid, validate=True)
    except (binascii.Error, ValueError):
        return None
    vector, message = data[:16], data[16:]
    if len(vector) < 16 or not message:
        return None
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        key = hashlib.sha256(secret.encode()).digest()
        decryptor = Cipher(algorithms.AES(key), modes.CTR(vector)).decryptor()
        try:
            plain = (decryptor.update(message) + decryptor.finalize()).decode()
        except UnicodeDecodeError:
            continue
        if SESSION_KEY.fullmatch(plain):
            return plain
    return None


def token_user(payload: dict[str, Any], session: SessionBase) -> Any:
    """The session's user if it is the token's. A password hash a fallback secret verified
    is stored under the current secret at once, so the next load (allauth's own, too) verifies
    it without Django cycling the session key."""
    user = internal.validate_token_user(payload, session)
    if user is not None and session.modified:
        session.save()
    return user


def token_session(payload: dict[str, Any]) -> SessionBase | None:
    session_key = session_key_from_sid(payload["sid"])
    session = lookup_session(session_key) if session_key else None
    if session is not None:
        session.keeps_key = True  # see sessions.SessionStore
    return session
