"""Legal hold in the admin: compliance sets and lifts it with a reason, written to the case's
trail; the retention purge leaves a held customer's data alone until the hold is lifted.
Support and operations cannot touch it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.kyc import errors, services
from apps.kyc.models import Case, CaseTransition, Document, Profile
from apps.kyc.tests.test_review import customer, staff, submitted_tier2

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    return submitted_tier2(customer())


def act(client, action, case, **extra):
    return client.post(
        "/admin/kyc/case/", {"action": action, "_selected_action": [case.pk], **extra}
    )


def hold_lines(case):
    return list(
        CaseTransition.objects.filter(
            case=case, reason_code__in=["legal_hold_set", "legal_hold_lifted"]
        ).values_list("reason_code", "staff_note", "by__email", "from_state", "to_state")
    )


def closed_long_ago(*users):
    long_ago = timezone.now() - timedelta(days=365 * 5 + 10)
    get_user_model().objects.filter(pk__in=[u.pk for u in users]).update(closed_at=long_ago)


def test_compliance_sets_and_lifts_a_hold_with_a_reason_in_the_trail(client, otp_login, case):
    otp_login(client, staff("ana@finstack.test", "compliance"))
    queue = client.get("/admin/kyc/case/")
    assert b'value="set_legal_hold"' in queue.content
    assert b'value="lift_legal_hold"' in queue.content

    form = act(client, "set_legal_hold", case)
    assert form.status_code == 200
    assert b'name="reason"' in form.content
    done = act(client, "set_legal_hold", case, apply="1", reason="Police request 2026/114")
    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.legal_hold, case.state) == (True, "submitted")
    assert hold_lines(case) == [
        ("legal_hold_set", "Police request 2026/114", "ana@finstack.test", "submitted", "submitted")
    ]
    assert b"Police request 2026/114" in client.get(f"/admin/kyc/case/{case.pk}/change/").content

    act(client, "lift_legal_hold", case, apply="1", reason="Case closed by the prosecutor")
    case.refresh_from_db()
    assert case.legal_hold is False
    assert [line[:2] for line in hold_lines(case)] == [
        ("legal_hold_set", "Police request 2026/114"),
        ("legal_hold_lifted", "Case closed by the prosecutor"),
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_hold_without_a_reason_is_refused(client, otp_login, case, reason):
    otp_login(client, staff("ana@finstack.test", "compliance"))
    response = act(client, "set_legal_hold", case, apply="1", reason=reason)
    assert response.status_code == 200  # the form again, with its error
    assert b"This field is required." in response.content
    case.refresh_from_db()
    assert case.legal_hold is False
    assert hold_lines(case) == []


def test_the_service_refuses_a_blank_reason_and_a_repeat(case):
    ana = staff("ana@finstack.test", "compliance")
    with pytest.raises(errors.ReasonRequired):
        services.legal_hold_set(case_id=case.pk, staff_id=ana.pk, reason="  ")
    services.legal_hold_set(case_id=case.pk, staff_id=ana.pk, reason="court order")
    with pytest.raises(errors.LegalHoldUnchanged):
        services.legal_hold_set(case_id=case.pk, staff_id=ana.pk, reason="again")
    assert [line[:2] for line in hold_lines(case)] == [("legal_hold_set", "court order")]


def test_a_repeated_hold_in_the_admin_says_so_and_writes_nothing(client, otp_login, case):
    otp_login(client, staff("ana@finstack.test", "compliance"))
    act(client, "set_legal_hold", case, apply="1", reason="court order")
    page = client.get(act(client, "set_legal_hold", case, apply="1", reason="again")["Location"])
    assert b"already in that legal hold state" in page.content
    assert [line[:2] for line in hold_lines(case)] == [("legal_hold_set", "court order")]


@pytest.mark.parametrize("role", ["support", "operations"])
def test_support_and_operations_cannot_set_or_lift_a_hold(client, otp_login, case, role):
    person = staff(f"{role}@finstack.test", role)
    otp_login(client, person)
    assert client.get("/admin/kyc/case/").status_code == 403
    assert act(client, "set_legal_hold", case, apply="1", reason="x").status_code == 403
    Case.objects.filter(pk=case.pk).update(legal_hold=True)
    assert act(client, "lift_legal_hold", case, apply="1", reason="x").status_code == 403
    with pytest.raises(errors.NotPermitted):
        services.legal_hold_lift(case_id=case.pk, staff_id=person.pk, reason="x")
    case.refresh_from_db()
    assert case.legal_hold is True
    assert hold_lines(case) == []


def test_the_purge_skips_a_held_customer_and_purges_after_the_lift(client, otp_login):
    held, other = customer("held@example.com"), customer("other@example.com")
    held_case = submitted_tier2(held)
    submitted_tier2(other)
    closed_long_ago(held, other)
    otp_login(client, staff("ana@finstack.test", "compliance"))
    act(client, "set_legal_hold", held_case, apply="1", reason="litigation hold")

    assert services.retention_purge() == 1

    assert Profile.objects.get(user=other).legal_last_name.startswith("purged-")
    kept = Profile.objects.get(user=held)
    assert (kept.legal_last_name, kept.tax_id) == ("Kovacs", "DE 123 456 789")
    assert Document.objects.filter(case__user=held, purged_at__isnull=True).count() == 3
    assert all(d.file.storage.exists(d.file.name) for d in Document.objects.filter(case=held_case))

    act(client, "lift_legal_hold", held_case, apply="1", reason="litigation over")
    assert services.retention_purge() == 1

    purged = Profile.objects.get(user=held)
    assert purged.legal_last_name.startswith("purged-")
    assert purged.tax_id is None
    assert all(d.purged_at and not d.file for d in Document.objects.filter(case=held_case))
    assert [line[:2] for line in hold_lines(held_case)] == [
        ("legal_hold_set", "litigation hold"),
        ("legal_hold_lifted", "litigation over"),
    ]
