"""Machine callers: the scopes an API key can hold and the principal it authenticates as.

An API key authenticates as `request.auth = MachinePrincipal(...)` with an anonymous
`request.user`, so every customer route (IsAuthenticated) refuses it: a key reaches only the
routes that declare `required_scopes` (apps.core.api.machine), with the scope for the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

# Every scope a key can hold; the admin's form offers exactly these.
SCOPES: dict[str, str] = {
    "ledger:read": "Read ledger accounts, balances, entries, transactions and holds",
    "ledger:write": "Open ledger accounts, post and reverse transactions, place holds",
    "ledger:all_accounts": "Reach every ledger account (wallets', system), not only the key's own",
    "webhooks:read": "List webhook endpoints and their deliveries",
    "webhooks:write": "Register, change, rotate and replay webhook endpoints",
}
ALL_ACCOUNTS = "ledger:all_accounts"


@dataclass(frozen=True)
class MachinePrincipal:
    key_id: UUID
    prefix: str
    namespace: str  # ledger accounts the key opens live under it; shared by a key's successors
    scopes: frozenset[str]
    rate: str  # DRF rate, e.g. "600/min"
    idempotency_id: int  # Idempotency-Key records are kept per namespace (negative: no user id)

    def has(self, scope: str) -> bool:
        return scope in self.scopes
