"""Public reads of apps.kyc: what a customer may do, by verification tier.

Tiers and their limits per currency are data (admin-editable). A customer without a tier is
on tier 0; a currency without a limit row falls back to settings.KYC_DEFAULT_LIMITS.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection

from apps.accounts import selectors as accounts_selectors
from apps.core.money import Money
from apps.kyc.models import (
    Case,
    CaseTransition,
    CustomerTier,
    Document,
    Profile,
    Tier,
    TierLimit,
)
from apps.kyc.reasons import REASONS


@dataclass(frozen=True)
class Limits:
    tier: int
    per_transaction: Money
    daily: Money
    monthly: Money
    max_balance: Money


def tier_of(*, user_id: int) -> int:
    level = CustomerTier.objects.filter(user_id=user_id).values_list("tier_id", flat=True)
    return level[0] if level else 0


# Two ids as two parameters, not an array: a prepared statement's generic plan then expects
# two rows and looks the tiers up by key, as a custom plan does. With `unnest(array)` it
# expected ten and a hash join over all tiers, so PostgreSQL planned it anew on every run,
# which cost more than running it.
_LIMITS_SQL = """
    SELECT u.id, coalesce(ct.tier_id, 0), l.per_transaction, l.daily, l.monthly, l.max_balance
    FROM (VALUES (%s::bigint), (%s::bigint)) AS u(id)
    LEFT JOIN kyc_customertier ct ON ct.user_id = u.id
    LEFT JOIN kyc_tierlimit l ON l.tier_id = coalesce(ct.tier_id, 0) AND l.currency = %s
"""


def limits_for(*, user_id: int, currency: str) -> Limits:
    return limits_for_users(user_ids=[user_id], currency=currency)[user_id]


def limits_for_users(*, user_ids: list[int], currency: str) -> dict[int, Limits]:
    """One or two users' tier limits in one currency, in one statement (a transfer needs the
    sender's and the recipient's). Written out: compiling the ORM query (a subquery for the
    tier), twice per transfer, was a large share of a P2P transfer's time in the request."""
    if not 1 <= len(user_ids) <= 2:
        raise ValueError(f"limits for one or two users, not {len(user_ids)}")
    with connection.cursor() as cursor:
        cursor.execute(_LIMITS_SQL, [user_ids[0], user_ids[-1], currency])
        rows = cursor.fetchall()
    table = settings.KYC_DEFAULT_LIMITS
    defaults = table.get(currency, table["default"])
    found = {}
    for user_id, tier, *amounts in rows:
        if amounts[0] is None:  # the tier sets no limits for this currency
            amounts = [defaults[k] for k in ("per_transaction", "daily", "monthly", "max_balance")]
        per_transaction, daily, monthly, max_balance = (Money(a, currency) for a in amounts)
        found[user_id] = Limits(tier, per_transaction, daily, monthly, max_balance)
    return found


# Usage (spent today / this month) is counted by wallets, above kyc: it registers a provider.
_usage_providers: list[Any] = []


def usage_provider_register(provider: object) -> None:
    _usage_providers[:] = [provider]


def limits_and_usage(*, user_id: int) -> dict[str, dict[str, int]]:
    """Per currency: the tier's limits and what the customer used of them (minor units)."""
    out = {}
    for currency in TierLimit.objects.filter(tier_id=tier_of(user_id=user_id)).values_list(
        "currency", flat=True
    ):
        limits = limits_for(user_id=user_id, currency=currency)
        today, month = _usage_providers[0](user_id, currency) if _usage_providers else (0, 0)
        out[currency] = {
            "per_transaction": limits.per_transaction.amount,
            "daily": limits.daily.amount,
            "monthly": limits.monthly.amount,
            "max_balance": limits.max_balance.amount,
            "used_today": today,
            "used_this_month": month,
        }
    return out


def can_withdraw(*, user_id: int) -> bool:
    """Whether the customer's tier lets money leave the platform (tier 0 cannot)."""
    return Tier.objects.filter(level=tier_of(user_id=user_id), can_withdraw=True).exists()


ID_DOCUMENTS = ({"passport"}, {"driving_licence"}, {"national_id_front", "national_id_back"})


def missing_for(*, user_id: int, target_tier: int, case_id: UUID | None = None) -> list[str]:
    """What a customer still has to provide for a tier (in the app's words: codes)."""
    missing = []
    if not Profile.objects.filter(user_id=user_id).exists():
        missing.append("profile")
    contact = accounts_selectors.user_contact(user_id=user_id)
    if target_tier >= 1 and not (contact and contact.phone):
        missing.append("verified_phone")
    if target_tier >= 2:
        uploaded = set(
            Document.objects.filter(case_id=case_id)  # type: ignore[misc]  # None: no case, none
            .exclude(review=Document.Review.RESUBMIT)
            .values_list("type", flat=True)
        )
        if not any(needed <= uploaded for needed in ID_DOCUMENTS):
            missing.append("identity_document")
        for needed in ("selfie", "proof_of_address"):
            if needed not in uploaded:
                missing.append(needed)
    return missing


def status(*, user_id: int) -> dict[str, Any]:
    """The customer's view: tier, the current (or last) case, what the next tier needs."""
    tier = tier_of(user_id=user_id)
    case = Case.objects.filter(user_id=user_id).order_by("-created_at").first()
    next_tier = min(tier + 1, 2)
    view = {
        "tier": tier,
        "can_withdraw": can_withdraw(user_id=user_id),
        "limits": limits_and_usage(user_id=user_id),
        "next_tier": next_tier if tier < 2 else None,
        "missing_for_next_tier": (
            missing_for(user_id=user_id, target_tier=next_tier, case_id=case.pk if case else None)
            if tier < 2
            else []
        ),
        "case": None,
    }
    if case:
        messages = CaseTransition.objects.filter(case=case).exclude(customer_message="")
        last = messages.order_by("-at", "-id").first()
        view["case"] = {
            "id": case.pk,
            "state": case.state,
            "target_tier": case.target_tier_id,
            "attempts": case.attempts,
            "message": last.customer_message if last else "",
            "documents": [
                {
                    "id": d.pk,
                    "type": d.type,
                    "review": d.review,
                    "message": "" if not d.reason_code else _reason(d.reason_code),
                }
                for d in case.documents.order_by("uploaded_at")
            ],
        }
    return view


def _reason(code: str) -> str:
    return REASONS.get(code, "")


def documents(*, user_id: int) -> list[Document]:
    return list(Document.objects.filter(case__user_id=user_id).order_by("-uploaded_at"))


def export_user(*, user_id: int) -> dict[str, Any]:
    """Everything KYC holds about a user (decrypted), for a subject access request."""
    profile = Profile.objects.filter(user_id=user_id).values().first()
    cases = []
    for case in Case.objects.filter(user_id=user_id).order_by("created_at"):
        cases.append(
            {
                "id": case.pk,
                "target_tier": case.target_tier_id,
                "state": case.state,
                "submitted_at": case.submitted_at,
                "decided_at": case.decided_at,
                "provider_result": case.provider_result,
                "trail": list(
                    case.trail.values(
                        "at", "from_state", "to_state", "reason_code", "customer_message"
                    )
                ),
                "documents": [
                    {
                        "type": d.type,
                        "number": d.number,
                        "expires_on": d.expires_on,
                        "uploaded_at": d.uploaded_at,
                        "review": d.review,
                        "purged": bool(d.purged_at),
                    }
                    for d in case.documents.all()
                ],
            }
        )
    if profile:
        profile["tax_id"] = Profile.objects.get(user_id=user_id).tax_id
    return {
        "user_id": user_id,
        "tier": tier_of(user_id=user_id),
        "profile": profile,
        "cases": cases,
    }


def cases_waiting() -> int:
    """Cases a reviewer has to look at."""
    return Case.objects.filter(
        state__in=["submitted", "in_review", "pending_second_review"]
    ).count()
