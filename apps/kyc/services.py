"""Public writes of apps.kyc: profiles, documents, verification cases and their review.

A case moves only along CASE_TRANSITIONS, each move written to its append-only trail with who,
when, why and a customer-safe message. A vendor's answer and the screening only propose; a
staff decision, or the auto-approve rule of tier 1, moves a case. The highest tier needs two
reviewers (four-eyes).

Screening hits belong to the customer: each is decided on its own by compliance (true match or
false positive, with a note). No case is approved while one is pending or a true match
stands, and a true match ends the customer's approvals (tier 0), as an expiry does."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.core import batch, signing
from apps.core.events import publish
from apps.kyc import errors, providers, screening, uploads
from apps.kyc.events import (
    KycApproved,
    KycDocumentsExpiring,
    KycRejected,
    KycResubmissionRequested,
    KycSubmitted,
    KycWithdrawn,
    ScreeningMatchConfirmed,
    TierChanged,
)
from apps.kyc.models import (
    Case,
    CaseState,
    CaseTransition,
    CustomerTier,
    Document,
    Profile,
    ProviderWebhook,
    ScreeningHit,
    Tier,
    WatchlistEntry,
)
from apps.kyc.reasons import REASONS
from apps.kyc.selectors import missing_for, tier_of

S = CaseState
CASE_TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.IN_REVIEW, S.APPROVED, S.WITHDRAWN},  # approved: tier 1's auto rule
    S.IN_REVIEW: {
        S.APPROVED,
        S.PENDING_SECOND_REVIEW,
        S.NEEDS_RESUBMISSION,
        S.REJECTED_FINAL,
        S.WITHDRAWN,
    },
    S.PENDING_SECOND_REVIEW: {S.APPROVED, S.IN_REVIEW, S.REJECTED_FINAL, S.WITHDRAWN},
    S.NEEDS_RESUBMISSION: {S.SUBMITTED, S.REJECTED_FINAL, S.WITHDRAWN},
    S.APPROVED: {S.EXPIRED},
    S.REJECTED_FINAL: set(),
    S.EXPIRED: set(),
    S.WITHDRAWN: set(),
}
OPEN = (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.PENDING_SECOND_REVIEW, S.NEEDS_RESUBMISSION)


# --- tiers ----------------------------------------------------------------------------------


@transaction.atomic
def customer_tier_set(*, user_id: int, level: int) -> None:
    """Move a customer to a tier (a review decision or an auto-approve rule calls this)."""
    tier = Tier.objects.get(level=level)
    previous = tier_of(user_id=user_id)
    if previous == level:
        return
    CustomerTier.objects.update_or_create(user_id=user_id, defaults={"tier": tier})
    publish(TierChanged(user_id=user_id, from_level=previous, to_level=level))


def tiers_ensure() -> None:
    """Create the default tiers and limits where missing (idempotent)."""
    from apps.kyc import tiers
    from apps.kyc.models import TierLimit

    with transaction.atomic():
        tiers.ensure(Tier, TierLimit)


# --- customer side --------------------------------------------------------------------------


# What an approved case verified: the identity (screened by name and date of birth) from tier
# 1 on, the address (proof of address) at tier 2. Changing one needs a new case.
IDENTITY_FIELDS = ("legal_first_name", "legal_last_name", "date_of_birth", "nationality")
ADDRESS_FIELDS = ("address_line", "postal_code", "city", "country")


def _verified_fields(user_id: int) -> tuple[str, ...]:
    levels = Case.objects.filter(user_id=user_id, state=S.APPROVED).values_list(
        "target_tier_id", flat=True
    )
    top = max(levels, default=0)
    if top >= 2:
        return IDENTITY_FIELDS + ADDRESS_FIELDS
    return IDENTITY_FIELDS if top >= 1 else ()


@transaction.atomic
def profile_save(*, user_id: int, reverify: bool = False, **fields: Any) -> None:
    """Create or replace the profile. Once a case is approved, the fields it verified are
    locked (409 `identity_locked`); with `reverify` the change is accepted and the approval it
    invalidates ends: the tier drops to what is still verified and a new draft case opens,
    both written to the trail."""
    born: date = fields["date_of_birth"]
    today = timezone.now().date()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < 18:
        raise errors.TooYoung()
    profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
    locked = _verified_fields(user_id) if profile else ()
    changed = [name for name in locked if getattr(profile, name) != fields[name]]
    if changed and not reverify:
        raise errors.IdentityLocked(fields=changed)
    Profile.objects.update_or_create(user_id=user_id, defaults=fields)
    if changed:
        _reverify(user_id, changed)


def _reverify(user_id: int, changed: list[str]) -> None:
    # The address alone changed: the tier 1 check (identity, screening) still holds.
    keep = 0 if set(changed) & set(IDENTITY_FIELDS) else 1
    open_case = _open_case(user_id)
    if open_case is not None and open_case.state not in (S.DRAFT, S.NEEDS_RESUBMISSION):
        raise errors.CaseNotOpen(state=open_case.state)  # under review: withdraw it first
    note = "changed: " + ", ".join(changed)
    approved = Case.objects.select_for_update().filter(
        user_id=user_id, state=S.APPROVED, target_tier_id__gt=keep
    )
    targets = [case.target_tier_id for case in approved.order_by("pk")]
    for case in approved.order_by("pk"):
        _move(case, S.EXPIRED, by=None, reason="identity_changed", note=note)
    level = min(tier_of(user_id=user_id), keep)
    customer_tier_set(user_id=user_id, level=level)
    case = open_case or _case_create(user_id, target_tier=max(targets, default=keep + 1))
    CaseTransition.objects.create(  # the new case's first line says why it exists
        case=case,
        from_state=case.state,
        to_state=case.state,
        reason_code="identity_changed",
        staff_note=f"{note}; tier now {level}",
    )


def _open_case(user_id: int, lock: bool = True) -> Case | None:
    rows = Case.objects.filter(user_id=user_id, state__in=OPEN)
    return (rows.select_for_update() if lock else rows).first()


@transaction.atomic
def document_add(
    *, user_id: int, type: str, data: bytes, number: str = "", expires_on: date | None = None
) -> UUID:
    """Checked, cleaned (metadata stripped) and stored privately, on the customer's open case
    (one is opened as a draft for tier 2 if needed)."""
    clean = uploads.clean(data)
    case = _open_case(user_id) or _case_create(user_id, target_tier=2)
    if case.state not in (S.DRAFT, S.NEEDS_RESUBMISSION):
        raise errors.CaseNotOpen()
    document = Document(
        id=uuid.uuid4(),
        case=case,
        type=type,
        content_type=clean.content_type,
        size=len(clean.content),
        number=number,
        expires_on=expires_on,
    )
    document.file.save(str(document.id), ContentFile(clean.content), save=False)
    document.save(force_insert=True)
    return document.id


def _case_create(user_id: int, target_tier: int) -> Case:
    try:
        with transaction.atomic():
            return Case.objects.create(user_id=user_id, target_tier_id=target_tier)
    except IntegrityError as exc:  # a concurrent twin opened one
        raise errors.CaseNotOpen() from exc


@transaction.atomic
def case_submit(*, user_id: int, target_tier: int) -> UUID:
    if tier_of(user_id=user_id) >= target_tier:
        raise errors.AlreadyAtTier()
    case = _open_case(user_id) or _case_create(user_id, target_tier)
    if case.state not in (S.DRAFT, S.NEEDS_RESUBMISSION):
        raise errors.CaseNotOpen(state=case.state)
    case.target_tier_id = target_tier
    missing = missing_for(user_id=user_id, target_tier=target_tier, case_id=case.pk)
    if "profile" in missing:
        raise errors.ProfileIncomplete(missing=missing)
    if missing:
        raise errors.DocumentsMissing(missing=missing)
    case.attempts += 1
    case.submitted_at = timezone.now()
    case.save(update_fields=["target_tier", "attempts", "submitted_at"])
    _move(case, S.SUBMITTED, by=None, reason="submitted by the customer")
    publish(KycSubmitted(case_id=str(case.pk), user_id=user_id, target_tier=target_tier))
    profile = Profile.objects.get(user_id=user_id)
    _screen(profile, case)
    flagged = _flagged_hits(user_id)
    if flagged:  # a possible sanctions/PEP match: a person must look, whatever else says
        _move(case, S.IN_REVIEW, by=None, reason="screening_hit", note=_hits_note(flagged))
    elif target_tier == 1:  # the auto-approve rule of the lowest tier
        _approve(case, by=None, note="auto-approved: profile and phone verified, no hits")
    else:
        case_id, last_name = str(case.pk), profile.legal_last_name
        transaction.on_commit(lambda: _vendor_submit(case_id, last_name), robust=True)
    return case.pk


def _vendor_submit(case_id: str, last_name: str) -> None:
    providers.get(settings.KYC_PROVIDER).submit(case_id=case_id, applicant={"last_name": last_name})


@dataclass(frozen=True)
class CaseWithdrawal:
    case_id: UUID
    state: str
    withdrawn_at: datetime


@transaction.atomic
def case_withdraw(*, user_id: int, case_id: UUID) -> CaseWithdrawal:
    """The customer takes back one of their cases while it is open (any open state). Asking
    again once withdrawn answers the same; a decided case cannot be withdrawn (409).
    Another customer's case is not found, exactly as a missing one."""
    case = Case.objects.select_for_update().filter(pk=case_id, user_id=user_id).first()
    if case is None:
        raise errors.CaseNotFound()
    if case.state != S.WITHDRAWN:
        if S.WITHDRAWN not in CASE_TRANSITIONS[case.state]:
            raise errors.CaseNotWithdrawable(state=case.state)
        _move(case, S.WITHDRAWN, by=None, reason="withdrawn by the customer")
        publish(KycWithdrawn(case_id=str(case.pk), user_id=user_id))
    step = case.trail.filter(to_state=S.WITHDRAWN).order_by("at", "id").first()
    assert step is not None  # noqa: S101 - every withdrawn case has its trail line
    return CaseWithdrawal(case_id=case.pk, state=case.state, withdrawn_at=step.at)


# --- vendor webhooks ------------------------------------------------------------------------


def vendor_webhook(*, provider: str, body: bytes, headers: dict[str, str]) -> bool:
    """Verify (HMAC over the raw body, timestamp window), store once per event id, apply:
    the vendor's result is recorded and the case goes to a reviewer."""
    try:
        vendor = providers.get(provider)
        data = vendor.parse_webhook(body=body, headers=headers)
    except (LookupError, KeyError, signing.BadSignature, ValueError) as exc:
        raise errors.WebhookRejected(str(exc)) from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProviderWebhook.objects.create(
                    provider=provider, event_id=str(data["id"]), raw_body=body.decode()
                )
        except IntegrityError:
            return False  # a redelivery: already applied
        case = Case.objects.select_for_update().filter(pk=data["case_id"]).first()
        if case is None:
            return True
        case.provider_result = {"result": data["result"], "labels": data.get("labels", [])}
        case.save(update_fields=["provider_result"])
        if case.state == S.SUBMITTED:
            _move(
                case,
                S.IN_REVIEW,
                by=None,
                reason=f"vendor: {data['result']}",
                note=json.dumps(case.provider_result),
            )
    return True


# --- staff side -----------------------------------------------------------------------------


def _staff_case(case_id: UUID) -> Case:
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise errors.CaseNotFound()
    return case


@transaction.atomic
def case_assign(*, case_id: UUID, staff_id: int) -> None:
    case = _staff_case(case_id)
    if case.state not in (S.SUBMITTED, S.IN_REVIEW, S.PENDING_SECOND_REVIEW):
        raise errors.IllegalCaseTransition(state=case.state)
    case.assigned_to_id = staff_id
    case.save(update_fields=["assigned_to"])
    if case.state == S.SUBMITTED:
        _move(case, S.IN_REVIEW, by=staff_id, reason="review started")


@transaction.atomic
def case_approve(*, case_id: UUID, staff_id: int, note: str = "") -> str:
    """Approve; for the highest tier the first approval only prepares it and a second,
    different reviewer confirms (four-eyes)."""
    case = _staff_case(case_id)
    top = Tier.objects.order_by("-level").values_list("level", flat=True).first()
    if case.state == S.PENDING_SECOND_REVIEW:
        if case.prepared_by_id == staff_id:
            raise errors.FourEyes()
        _ensure_screening_decided(case.user_id)
        _approve(case, by=staff_id, note=note)
        return case.state
    if case.state != S.IN_REVIEW:
        raise errors.IllegalCaseTransition(state=case.state)
    _ensure_screening_decided(case.user_id)
    if case.target_tier_id == top:
        case.prepared_by_id = staff_id
        case.save(update_fields=["prepared_by"])
        _move(case, S.PENDING_SECOND_REVIEW, by=staff_id, reason="prepared", note=note)
    else:
        _approve(case, by=staff_id, note=note)
    return case.state


def _approve(case: Case, by: int | None, note: str) -> None:
    case.decided_at = timezone.now()
    case.expires_at = case.decided_at + timedelta(days=settings.KYC_APPROVAL_VALID_DAYS)
    case.save(update_fields=["decided_at", "expires_at"])
    _move(case, S.APPROVED, by=by, reason="approved", note=note)
    Document.objects.filter(case=case).update(review=Document.Review.ACCEPTED)
    customer_tier_set(user_id=case.user_id, level=case.target_tier_id)
    publish(KycApproved(case_id=str(case.pk), user_id=case.user_id, tier=case.target_tier_id))


@transaction.atomic
def case_reject(*, case_id: UUID, staff_id: int, reason_code: str, note: str = "") -> None:
    case = _staff_case(case_id)
    _move(case, S.REJECTED_FINAL, by=staff_id, reason=reason_code, note=note)
    publish(KycRejected(case_id=str(case.pk), user_id=case.user_id, message=REASONS[reason_code]))


@transaction.atomic
def case_request_resubmission(
    *, case_id: UUID, staff_id: int, documents: dict[str, str], note: str = ""
) -> str:
    """`documents`: document id → reason code. Past the attempt cap the case is rejected."""
    case = _staff_case(case_id)
    if case.attempts >= settings.KYC_MAX_ATTEMPTS:
        _move(case, S.REJECTED_FINAL, by=staff_id, reason="attempts_exhausted", note=note)
        publish(
            KycRejected(
                case_id=str(case.pk), user_id=case.user_id, message=REASONS["attempts_exhausted"]
            )
        )
        return case.state
    for document_id, code in documents.items():
        REASONS[code]  # noqa: B018 - an unknown code is a KeyError before anything changes
        Document.objects.filter(pk=document_id, case=case).update(
            review=Document.Review.RESUBMIT, reason_code=code
        )
    _move(
        case,
        S.NEEDS_RESUBMISSION,
        by=staff_id,
        reason=",".join(sorted(set(documents.values()))),
        note=note,
    )
    publish(
        KycResubmissionRequested(
            case_id=str(case.pk),
            user_id=case.user_id,
            messages=[REASONS[c] for c in documents.values()],
        )
    )
    return case.state


# --- legal hold -------------------------------------------------------------------------------


def _require_permission(staff_id: int, permission: str) -> None:
    staff = get_user_model().objects.filter(pk=staff_id, is_active=True, is_staff=True).first()
    if staff is None or not staff.has_perm(permission):
        raise errors.NotPermitted()


def legal_hold_set(*, case_id: UUID, staff_id: int, reason: str) -> None:
    """Keep the case's customer out of the retention purge until the hold is lifted."""
    _legal_hold(case_id, staff_id, reason, hold=True)


def legal_hold_lift(*, case_id: UUID, staff_id: int, reason: str) -> None:
    _legal_hold(case_id, staff_id, reason, hold=False)


@transaction.atomic
def _legal_hold(case_id: UUID, staff_id: int, reason: str, *, hold: bool) -> None:
    _require_permission(staff_id, LEGAL_HOLD_PERMISSION)
    reason = reason.strip()
    if not reason:
        raise errors.ReasonRequired()
    case = _staff_case(case_id)
    if case.legal_hold == hold:
        raise errors.LegalHoldUnchanged(legal_hold=hold)
    Case.objects.filter(pk=case.pk).update(legal_hold=hold)
    CaseTransition.objects.create(  # the state stays; the trail says who held or lifted, why
        case=case,
        from_state=case.state,
        to_state=case.state,
        by_id=staff_id,
        reason_code="legal_hold_set" if hold else "legal_hold_lifted",
        staff_note=reason,
    )


# --- screening --------------------------------------------------------------------------------

REVIEW_PERMISSION, LEGAL_HOLD_PERMISSION = "kyc.review_case", "kyc.legal_hold"
RESCREEN_JOB = "kyc.rescreen"
Decision = ScreeningHit.Decision


def _screen(profile: Profile, case: Case | None) -> list[ScreeningHit]:
    """New hits for a profile: one per matching entry, unless that entry already has an open
    hit for the customer, or the entry as it stands (its fingerprint, kept when a list is
    loaded again) was already raised: pending, or decided."""
    known = ScreeningHit.objects.filter(user_id=profile.user_id)
    open_entries: set[int] = set()
    seen: set[str] = set()
    for entry_id, fingerprint, decision in known.values_list(
        "entry_id", "entry_fingerprint", "decision"
    ):
        seen.add(fingerprint)  # a reloaded list keeps its entries' data under new rows
        if decision == Decision.PENDING:
            open_entries.add(entry_id)
    new = []
    for entry, score in screening.candidates(profile):
        fingerprint = screening.fingerprint(entry)
        if entry.pk in open_entries or fingerprint in seen:
            continue
        try:
            with transaction.atomic():
                hit = ScreeningHit.objects.create(
                    user_id=profile.user_id,
                    case=case,
                    entry=entry,
                    entry_fingerprint=fingerprint,
                    score=score,
                )
        except IntegrityError:  # a concurrent screening of the same customer raised it
            continue
        new.append(hit)
    return new


def _flagged_hits(user_id: int) -> list[ScreeningHit]:
    """Hits that keep a person in the loop: undecided, or decided as a true match."""
    return list(
        ScreeningHit.objects.filter(user_id=user_id)
        .exclude(decision=Decision.FALSE_POSITIVE)
        .select_related("entry")
        .order_by("pk")
    )


def _hits_note(hits: list[ScreeningHit]) -> str:
    return ", ".join(f"{h.entry.name} ({h.score}, {h.decision})" for h in hits)


def _ensure_screening_decided(user_id: int) -> None:
    flagged = _flagged_hits(user_id)
    if any(h.decision == Decision.TRUE_MATCH for h in flagged):
        raise errors.ScreeningTrueMatch()
    if flagged:
        raise errors.ScreeningHitsPending(hits=[h.pk for h in flagged])


def rescreen(*, user_id: int | None = None) -> int:
    """Screen one customer, or every customer with a (not pseudonymised) profile, against
    the watch list as it is now; returns the number of new hits. A customer whose case waits
    for the vendor goes to a reviewer, as at submission. One customer that fails does not
    stop the others (apps.core.batch)."""
    if user_id is not None:
        return _rescreen_one(user_id)
    if not WatchlistEntry.objects.exists():
        return 0
    user_ids = list(
        Profile.objects.filter(pseudonymised_at__isnull=True)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    return sum(batch.each(RESCREEN_JOB, user_ids, _rescreen_one).results)


@transaction.atomic
def _rescreen_one(user_id: int) -> int:
    # Profile, then case: the order profile_save locks them in.
    profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        raise errors.ProfileNotFound(user_id=user_id)
    if profile.pseudonymised_at:
        return 0
    case = _open_case(user_id) or (
        Case.objects.filter(user_id=user_id).order_by("-created_at").first()
    )
    new = _screen(profile, case)
    if new and case is not None and case.state == S.SUBMITTED:
        _move(case, S.IN_REVIEW, by=None, reason="screening_hit", note=_hits_note(new))
    return len(new)


@transaction.atomic
def hit_decide(*, hit_id: int, staff_id: int, decision: str, note: str) -> None:
    """Compliance decides one hit: a false positive lets the customer's case go on; a true
    match ends the customer's approvals (tier 0) and blocks any approval after it."""
    if decision not in (Decision.TRUE_MATCH, Decision.FALSE_POSITIVE):
        raise ValueError(f"unknown decision {decision!r}")
    _require_permission(staff_id, REVIEW_PERMISSION)
    note = note.strip()
    if not note:
        raise errors.ReasonRequired("A note is required.")
    hit = ScreeningHit.objects.select_for_update().filter(pk=hit_id).select_related("entry").first()
    if hit is None:
        raise errors.HitNotFound()
    if hit.decision != Decision.PENDING:
        raise errors.HitAlreadyDecided(decision=hit.decision)
    hit.decision, hit.note, hit.decided_by_id = decision, note, staff_id
    hit.decided_at = timezone.now()
    hit.save(update_fields=["decision", "note", "decided_by", "decided_at"])
    case = hit.case  # None, without a query, when it has no case
    if case is not None:
        CaseTransition.objects.create(
            case=case,
            from_state=case.state,
            to_state=case.state,
            by_id=staff_id,
            reason_code=f"screening_{decision}"[:40],
            staff_note=f"{hit.entry.name} ({hit.entry.list_name}): {note}",
        )
    if decision == Decision.TRUE_MATCH:
        _confirm_match(hit, staff_id)


def _confirm_match(hit: ScreeningHit, staff_id: int) -> None:
    approved = Case.objects.select_for_update().filter(user_id=hit.user_id, state=S.APPROVED)
    for case in approved.order_by("pk"):
        _move(case, S.EXPIRED, by=staff_id, reason="screening_true_match", note=hit.note)
    customer_tier_set(user_id=hit.user_id, level=0)
    publish(
        ScreeningMatchConfirmed(user_id=hit.user_id, hit_id=hit.pk, list_name=hit.entry.list_name)
    )


def _move(case: Case, to: str, *, by: int | None, reason: str, note: str = "") -> None:
    if to not in CASE_TRANSITIONS[case.state]:
        raise errors.IllegalCaseTransition(from_state=case.state, to_state=to)
    CaseTransition.objects.create(
        case=case,
        from_state=case.state,
        to_state=to,
        by_id=by,
        reason_code=reason[:40],
        customer_message=REASONS.get(reason, "")[:300],
        staff_note=note,
    )
    Case.objects.filter(pk=case.pk).update(state=to)
    case.state = to


# --- beat jobs --------------------------------------------------------------------------------


def cases_expire() -> int:
    """Approvals past their validity expire (tier back to 0); customers whose documents
    expire within 30 days are told to renew them. One case that cannot be expired is left
    for people (apps.core.batch), not the others."""
    now = timezone.now()
    due = Case.objects.filter(state=S.APPROVED, expires_at__lte=now).exclude(
        pk__in=batch.resting(EXPIRE_JOB)
    )
    expired = len(batch.each(EXPIRE_JOB, list(due.values_list("pk", flat=True)), _expire).results)
    soon = now.date() + timedelta(days=30)
    expiring = (
        Document.objects.filter(
            case__state=S.APPROVED, expires_on__lte=soon, expires_on__gte=now.date()
        )
        .values_list("case__user_id", "expires_on")
        .distinct()
    )
    with transaction.atomic():
        for user_id, expires_on in expiring:
            publish(KycDocumentsExpiring(user_id=user_id, expires_on=expires_on.isoformat()))  # type: ignore[union-attr]
    return expired


def retention_purge() -> int:
    """Five years after a customer left (account closed), delete their documents' files and
    pseudonymise the profile, unless a case is under legal hold. The ledger is never touched.
    A customer whose files cannot be deleted (storage refusing) is left for people and
    retried, not the others."""
    cutoff = timezone.now() - timedelta(days=365 * settings.KYC_RETENTION_YEARS)
    resting = {int(i) for i in batch.resting(RETENTION_JOB)}
    due = [
        user_id
        for user_id in accounts_selectors.users_closed_before(when=cutoff)
        if user_id not in resting
        and not Case.objects.filter(user_id=user_id, legal_hold=True).exists()
        and _holds_personal_data(user_id)
    ]
    return len(batch.each(RETENTION_JOB, due, _purge).results)


EXPIRE_JOB, RETENTION_JOB = "kyc.expire", "kyc.retention"


def _holds_personal_data(user_id: int) -> bool:
    return (
        Profile.objects.filter(user_id=user_id, pseudonymised_at__isnull=True).exists()
        or Document.objects.filter(case__user_id=user_id, purged_at__isnull=True).exists()
    )


@transaction.atomic
def _expire(case_id: UUID) -> None:
    case = _staff_case(case_id)
    _move(case, S.EXPIRED, by=None, reason="approval expired")
    customer_tier_set(user_id=case.user_id, level=0)


@transaction.atomic
def _purge(user_id: int) -> None:
    """Files first, inside the transaction: a storage that refuses one rolls the rows back,
    and the files already deleted are deleted again (a no-op) on the retry."""
    for document in Document.objects.select_for_update().filter(
        case__user_id=user_id, purged_at__isnull=True
    ):
        document.file.delete(save=False)
        document.number, document.purged_at = None, timezone.now()
        document.save(update_fields=["file", "number", "purged_at"])
    pseudonym = f"purged-{uuid.uuid4().hex[:12]}"
    Profile.objects.filter(user_id=user_id, pseudonymised_at__isnull=True).update(
        legal_first_name=pseudonym,
        legal_last_name=pseudonym,
        address_line="",
        postal_code="",
        city="",
        tax_id=None,
        date_of_birth=date(1900, 1, 1),
        pseudonymised_at=timezone.now(),
    )
