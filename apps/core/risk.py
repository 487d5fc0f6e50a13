"""The risk rule engine every money movement shares: outcomes, their order, and the amount
rule. One set of thresholds per currency in minor units, so a payment and a P2P transfer of
the same amount get the same outcome: settings.PAYMENTS_RISK gives the defaults, and a
`RiskLimit` row compliance edits in the admin replaces its currency's entry. Apps add their own
rules (velocity of payments, new funding sources) to the same Decision."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings

ALLOW, REVIEW, DENY = "allow", "review", "deny"
_SEVERITY = {ALLOW: 0, REVIEW: 1, DENY: 2}


@dataclass
class Decision:
    outcome: str = ALLOW
    reasons: list[str] = field(default_factory=list)

    def add(self, outcome: str, reason: str) -> None:
        self.reasons.append(reason)
        if _SEVERITY[outcome] > _SEVERITY[self.outcome]:
            self.outcome = outcome


def amount_limits(currency: str) -> dict[str, int]:
    rules = {**_defaults()["amount"], **_edited()["amount"]}
    limits: dict[str, int] = rules.get(currency, rules["default"])
    return limits


def max_per_hour() -> int:
    edited = _edited()["max_per_hour"]
    return int(edited if edited is not None else _defaults()["max_per_hour"])


def _defaults() -> dict[str, Any]:
    return cast(dict[str, Any], settings.PAYMENTS_RISK)


_cache: tuple[float, dict[str, Any]] | None = None


def _edited() -> dict[str, Any]:
    """The admin's rows, read at most every RISK_RULES_CACHE_SECONDS per process: the allow
    path of every transfer asks, and an edit may take that long to reach every worker."""
    global _cache
    ttl = settings.RISK_RULES_CACHE_SECONDS
    if ttl and _cache is not None and time.monotonic() - _cache[0] < ttl:
        return _cache[1]
    from apps.core.models import RiskLimit

    rows = list(RiskLimit.objects.all())
    edited = {
        "amount": {
            r.currency: {"review": r.review, "deny": r.deny, "review_per_day": r.review_per_day}
            for r in rows
        },
        "max_per_hour": next((r.max_per_hour for r in rows if r.currency == "default"), None),
    }
    _cache = (time.monotonic(), edited)
    return edited


def forget() -> None:
    """After an edit: this process reads the rows again at once."""
    global _cache
    _cache = None


def amount_assess(decision: Decision, *, amount: int, currency: str) -> Decision:
    """The amount thresholds (cached: P2P's allow path runs it)."""
    limits = amount_limits(currency)
    if amount >= limits["deny"]:
        decision.add(DENY, "amount_over_deny_threshold")
    elif amount >= limits["review"]:
        decision.add(REVIEW, "amount_over_review_threshold")
    return decision
