"""The risk rule engine every money movement shares: outcomes, their order, and the amount
rule. One set of thresholds (settings.PAYMENTS_RISK, per currency in minor units), so a payment
and a P2P transfer of the same amount get the same outcome. Apps add their own rules (velocity
of payments, new funding sources) to the same Decision."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    rules = settings.PAYMENTS_RISK["amount"]
    limits: dict[str, int] = rules.get(currency, rules["default"])
    return limits


def amount_assess(decision: Decision, *, amount: int, currency: str) -> Decision:
    """The amount thresholds; pure Python on settings (no query: P2P's allow path runs it)."""
    limits = amount_limits(currency)
    if amount >= limits["deny"]:
        decision.add(DENY, "amount_over_deny_threshold")
    elif amount >= limits["review"]:
        decision.add(REVIEW, "amount_over_review_threshold")
    return decision
