"""Development keys: made once per checkout under .data/ so every process (gunicorn workers,
Celery) signs with the same key. Production gives its keys through the environment."""

import base64
import hashlib
import os
import re
from pathlib import Path


def dev_rsa_private_key(path: Path) -> str:
    """An RSA key in PEM, generated on first use and kept in `path`."""
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        os.replace(tmp, path)  # atomic: concurrent first starts agree on one key
    return path.read_text()


def fernet_key_from(secret: str) -> str:
    """A Fernet key derived from a development secret (never used in production)."""
    digest = hashlib.sha256(f"finstack-mfa:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def pem_blocks(text: str) -> list[str]:
    """The PEM blocks in `text` (one environment variable or secret file may hold several)."""
    return re.findall(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", text or "", re.S)
