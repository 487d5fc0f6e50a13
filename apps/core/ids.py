"""Time-ordered ids (UUID version 7, RFC 9562) for rows that arrive in time order and are many:
ledger transactions and holds, outbox events, P2P transfers.

A random (version 4) primary key puts every insert on a random leaf of its B-tree: after each
checkpoint almost every insert writes a full page image to the WAL, and a large index stops
fitting in memory (measured on the ledger posting: docs/performance.md).
SQL makes the same ids with core_uuid7() (migration core 0004)."""

from __future__ import annotations

import os
import time
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def uuid7() -> UUID:
    """48 bits of Unix time in milliseconds, the version, then 74 random bits."""
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits; 74 of them are kept
    rand_a = (rand >> 68) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    millis = time.time_ns() // 1_000_000
    return UUID(int=(millis << 80) | _VERSION | (rand_a << 64) | _VARIANT | rand_b)
