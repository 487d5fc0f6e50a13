"""The verification workflow: vendor answers, screening, compliance decisions in the admin,
four-eyes, resubmission and its cap, expiry, retention and subject access."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from apps.accounts import services as accounts_services
from apps.core.models import OutboxEvent
from apps.kyc import errors, providers, selectors, services
from apps.kyc.models import Case, CaseTransition, Document, Profile, WatchlistEntry
from apps.kyc.tests.factories import jpeg, pdf, profile_fields, verified_phone

pytestmark = pytest.mark.django_db


def customer(email="karla@example.com", **profile):
    user = get_user_model().objects.create_user(email, "pw")
    services.profile_save(user_id=user.pk, **profile_fields(**profile))
    verified_phone(user.pk, phone=f"+49151{user.pk:08d}")
    return user


def submitted_tier2(user) -> Case:
    for kind, data in (("passport", jpeg()), ("selfie", jpeg()), ("proof_of_address", pdf())):
        services.document_add(user_id=user.pk, type=kind, data=data)
    return Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=2))


def vendor_answers(case: Case, last_name: str | None = None) -> object:
    body, headers = providers.simulated_result(
        str(case.pk), last_name or Profile.objects.get(user_id=case.user_id).legal_last_name
    )
    return Client().post(
        "/api/v1/kyc/webhooks/simulated",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def staff(email, role):
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(email=email, role=role, password="pw")
    )


def trail(case):
    return list(case.trail.values_list("to_state", flat=True))


def test_the_vendor_only_proposes_then_two_reviewers_approve_tier_2():
    user = customer()
    case = submitted_tier2(user)
    assert vendor_answers(case).json() == {"received": True, "duplicate": False}
    case.refresh_from_db()
    assert (case.state, case.provider_result["result"]) == ("in_review", "GREEN")
    ana, ben = staff("ana@finstack.test", "compliance"), staff("ben@finstack.test", "compliance")
    assert services.case_approve(case_id=case.pk, staff_id=ana.pk) == "pending_second_review"
    with pytest.raises(errors.FourEyes):
        services.case_approve(case_id=case.pk, staff_id=ana.pk)
    assert selectors.tier_of(user_id=user.pk) == 0
    assert services.case_approve(case_id=case.pk, staff_id=ben.pk) == "approved"
    assert selectors.tier_of(user_id=user.pk) == 2
    # Payments and wallets read the new limits through the selector.
    assert selectors.limits_for(user_id=user.pk, currency="EUR").per_transaction.amount == 1_000_000
    assert trail(case) == ["submitted", "in_review", "pending_second_review", "approved"]
    assert OutboxEvent.objects.filter(type="kyc.approved").count() == 1


def test_a_red_vendor_answer_still_waits_for_a_person():
    case = submitted_tier2(customer(legal_last_name="Redford"))
    vendor_answers(case)
    case.refresh_from_db()
    assert (case.state, case.provider_result["labels"]) == (
        "in_review",
        ["document_forgery_suspected"],
    )


def test_a_screening_hit_forces_review_even_for_tier_1():
    WatchlistEntry.objects.create(name="KOVACS, Karla", list_name="EU sanctions")
    user = customer(legal_first_name="Karla", legal_last_name="Kovács")
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    assert case.state == "in_review"
    assert [h.score >= 88 for h in case.hits.all()] == [True]
    assert selectors.tier_of(user_id=user.pk) == 0


def test_a_namesake_with_another_birth_date_is_no_hit():
    WatchlistEntry.objects.create(
        name="Karla Kovacs", list_name="PEP", date_of_birth=date(1960, 1, 1)
    )
    user = customer()
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    assert case.state == "approved"


def test_resubmission_per_document_then_the_attempt_cap():
    user = customer()
    case = submitted_tier2(user)
    reviewer = staff("ana@finstack.test", "compliance")
    services.case_assign(case_id=case.pk, staff_id=reviewer.pk)
    selfie = case.documents.get(type="selfie")
    services.case_request_resubmission(
        case_id=case.pk, staff_id=reviewer.pk, documents={str(selfie.pk): "selfie_mismatch"}
    )
    status = selectors.status(user_id=user.pk)["case"]
    assert status["state"] == "needs_resubmission"
    assert status["message"] == "The selfie does not match the photo on your document."
    assert [d["message"] for d in status["documents"] if d["review"] == "resubmit"] == [
        "The selfie does not match the photo on your document."
    ]
    assert selectors.missing_for(user_id=user.pk, target_tier=2, case_id=case.pk) == ["selfie"]
    for _attempt in range(2, 4):
        services.document_add(user_id=user.pk, type="selfie", data=jpeg())
        services.case_submit(user_id=user.pk, target_tier=2)
        services.case_assign(case_id=case.pk, staff_id=reviewer.pk)
        services.case_request_resubmission(
            case_id=case.pk, staff_id=reviewer.pk, documents={str(selfie.pk): "selfie_mismatch"}
        )
    case.refresh_from_db()
    assert (case.state, case.attempts) == ("rejected_final", 3)
    assert OutboxEvent.objects.filter(type="kyc.rejected").count() == 1


def test_illegal_transitions_are_refused_and_change_nothing():
    user = customer()
    case = submitted_tier2(user)  # submitted, not yet in review
    reviewer = staff("ana@finstack.test", "compliance")
    with pytest.raises(errors.IllegalCaseTransition):
        services.case_approve(case_id=case.pk, staff_id=reviewer.pk)
    with pytest.raises(errors.IllegalCaseTransition):  # no decision before a review starts
        services.case_reject(case_id=case.pk, staff_id=reviewer.pk, reason_code="unable_to_verify")
    services.case_assign(case_id=case.pk, staff_id=reviewer.pk)
    services.case_reject(case_id=case.pk, staff_id=reviewer.pk, reason_code="unable_to_verify")
    for attempt in (
        lambda: services.case_assign(case_id=case.pk, staff_id=reviewer.pk),
        lambda: services.case_reject(
            case_id=case.pk, staff_id=reviewer.pk, reason_code="unable_to_verify"
        ),
        lambda: services.case_withdraw(user_id=user.pk, case_id=case.pk),
    ):
        with pytest.raises((errors.IllegalCaseTransition, errors.CaseNotWithdrawable)):
            attempt()
    case.refresh_from_db()
    assert case.state == "rejected_final"


def test_the_trail_is_append_only():
    case = submitted_tier2(customer())
    step = CaseTransition.objects.filter(case=case).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseTransition.objects.filter(pk=step.pk).update(staff_note="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseTransition.objects.filter(pk=step.pk).delete()


def test_vendor_webhooks_are_verified_and_deduplicated():
    case = submitted_tier2(customer())
    body, headers = providers.simulated_result(str(case.pk), "Kovacs")
    forged = Client().post(
        "/api/v1/kyc/webhooks/simulated",
        data=body,
        content_type="application/json",
        headers={"Finstack-Signature": headers["Finstack-Signature"][:-2] + "00"},
    )
    assert forged.status_code == 400
    case.refresh_from_db()
    assert case.state == "submitted"

    def post():
        return Client().post(
            "/api/v1/kyc/webhooks/simulated",
            data=body,
            content_type="application/json",
            headers=headers,
        )

    assert post().json()["duplicate"] is False
    assert post().json()["duplicate"] is True
    assert trail(case) == ["submitted", "in_review"]


def test_approvals_expire_and_expiring_documents_are_announced():
    user = customer()
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    Document.objects.create(
        case=case,
        type="passport",
        content_type="image/jpeg",
        size=1,
        file=ContentFile(b"x", name="x"),
        expires_on=timezone.now().date() + timedelta(days=10),
    )
    assert services.cases_expire() == 0
    assert OutboxEvent.objects.filter(type="kyc.documents_expiring").count() == 1
    Case.objects.filter(pk=case.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert services.cases_expire() == 1
    assert selectors.tier_of(user_id=user.pk) == 0
    case.refresh_from_db()
    assert case.state == "expired"


def test_retention_purges_five_years_after_closure_unless_on_legal_hold():
    kept, gone = customer("kept@example.com"), customer("gone@example.com")
    for user in (kept, gone):
        submitted_tier2(user)
    long_ago = timezone.now() - timedelta(days=365 * 5 + 10)
    get_user_model().objects.filter(pk__in=[kept.pk, gone.pk]).update(closed_at=long_ago)
    Case.objects.filter(user=kept).update(legal_hold=True)
    assert services.retention_purge() == 1
    purged = Profile.objects.get(user=gone)
    assert purged.legal_last_name.startswith("purged-")
    assert purged.tax_id is None
    assert all(d.purged_at and not d.file for d in Document.objects.filter(case__user=gone))
    assert Profile.objects.get(user=kept).legal_last_name == "Kovacs"
    assert Document.objects.filter(case__user=kept, purged_at__isnull=True).count() == 3


def test_subject_access_export(capsys):
    user = customer()
    submitted_tier2(user)
    call_command("kyc_export_user", str(user.pk))
    out = capsys.readouterr().out
    assert '"tax_id": "DE 123 456 789"' in out
    assert '"state": "submitted"' in out
