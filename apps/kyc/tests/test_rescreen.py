"""Re-screening customers against a new watch list, and compliance deciding each hit on its
own in the admin: a false positive keeps the customer's tier, a true match ends their
approvals. A decided hit is not raised again unless its entry changed."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import JobFailure, OutboxEvent
from apps.core.testing import database_refuses_changes
from apps.kyc import errors, selectors, services
from apps.kyc.models import Case, ScreeningHit, WatchlistEntry
from apps.kyc.tests.factories import jpeg, pdf
from apps.kyc.tests.test_review import customer, staff, submitted_tier2, trail

pytestmark = pytest.mark.django_db


def approved_tier1(email="karla@example.com"):
    user = customer(email)
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    assert case.state == "approved"
    return user, case


def listed(**fields):
    return WatchlistEntry.objects.create(
        **{"name": "KOVACS, Karla", "list_name": "EU sanctions", **fields}
    )


def rescreen(*args):
    out = io.StringIO()
    call_command("kyc_rescreen", *args, stdout=out)
    return out.getvalue().strip()


def decide(client, action, hit, **extra):
    return client.post(
        "/admin/kyc/screeninghit/", {"action": action, "_selected_action": [hit.pk], **extra}
    )


def events(kind):
    return list(OutboxEvent.objects.filter(type=kind).values_list("payload", flat=True))


@pytest.fixture
def ana(client, otp_login):
    person = staff("ana@finstack.test", "compliance")
    otp_login(client, person)
    return person


def test_a_new_list_entry_raises_one_pending_hit_and_the_tier_stays():
    user, case = approved_tier1()
    entry = listed()

    assert rescreen() == "1 new screening hit(s)"

    hit = ScreeningHit.objects.get()
    assert (hit.user_id, hit.case_id, hit.entry_id, hit.decision) == (
        user.pk,
        case.pk,
        entry.pk,
        "pending",
    )
    assert hit.score >= 88
    assert selectors.tier_of(user_id=user.pk) == 1
    assert rescreen() == "0 new screening hit(s)"  # already open: not raised twice
    assert ScreeningHit.objects.count() == 1


def test_a_false_positive_decided_in_the_admin_keeps_the_tier(client, ana):
    user, case = approved_tier1()
    listed(country="RU")
    rescreen()
    hit = ScreeningHit.objects.get()

    page = decide(client, "decide_false_positive", hit)
    assert page.status_code == 200
    assert b"KOVACS, Karla (EU sanctions, RU)" in page.content
    assert b'name="note"' in page.content
    refused = decide(client, "decide_false_positive", hit, apply="1", note=" ")
    assert b"This field is required." in refused.content
    hit.refresh_from_db()
    assert hit.decision == "pending"

    done = decide(
        client, "decide_false_positive", hit, apply="1", note="Listed person born in 1961, RU"
    )

    assert done.status_code == 302
    hit.refresh_from_db()
    assert (hit.decision, hit.note, hit.decided_by_id) == (
        "false_positive",
        "Listed person born in 1961, RU",
        ana.pk,
    )
    assert hit.decided_at is not None
    assert selectors.tier_of(user_id=user.pk) == 1
    case.refresh_from_db()
    assert case.state == "approved"
    line = case.trail.last()
    assert (line.reason_code, line.by_id) == ("screening_false_positive", ana.pk)
    assert line.staff_note == "KOVACS, Karla (EU sanctions): Listed person born in 1961, RU"
    assert events("kyc.screening_match_confirmed") == []
    listing = client.get("/admin/kyc/screeninghit/")
    assert b"ana@finstack.test" in listing.content


def test_a_true_match_ends_the_approvals_and_blocks_new_ones(client, ana):
    user, case = approved_tier1()
    listed()
    rescreen()
    hit = ScreeningHit.objects.get()

    decide(client, "decide_true_match", hit, apply="1", note="Passport matches the listing")

    hit.refresh_from_db()
    assert (hit.decision, hit.decided_by_id) == ("true_match", ana.pk)
    assert selectors.tier_of(user_id=user.pk) == 0
    case.refresh_from_db()
    assert case.state == "expired"
    assert trail(case)[-1] == "expired"
    assert case.trail.last().reason_code == "screening_true_match"
    assert events("kyc.screening_match_confirmed") == [
        {"user_id": user.pk, "hit_id": hit.pk, "list_name": "EU sanctions"}
    ]
    assert {"user_id": user.pk, "from_level": 1, "to_level": 0} in events("kyc.tier_changed")

    again = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    assert again.state == "in_review"  # no auto-approval while a true match stands
    with pytest.raises(errors.ScreeningTrueMatch) as refused:
        services.case_approve(case_id=again.pk, staff_id=ana.pk)
    assert (refused.value.code, refused.value.http_status) == ("screening_true_match", 409)
    again.refresh_from_db()
    assert again.state == "in_review"
    assert selectors.tier_of(user_id=user.pk) == 0
    assert rescreen() == "0 new screening hit(s)"


def test_a_case_is_not_approved_while_a_hit_is_pending(client, ana):
    user, _ = approved_tier1()
    listed()
    rescreen()
    for kind, data in (("passport", jpeg()), ("selfie", jpeg()), ("proof_of_address", pdf())):
        services.document_add(user_id=user.pk, type=kind, data=data)
    case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=2))
    assert case.state == "in_review"  # the pending hit sends it to a person
    approvals = len(events("kyc.approved"))

    page = client.get(
        client.post("/admin/kyc/case/", {"action": "approve", "_selected_action": [case.pk]})[
            "Location"
        ]
    )

    assert b"Every screening hit of this customer needs its own decision first." in page.content
    with pytest.raises(errors.ScreeningHitsPending) as refused:
        services.case_approve(case_id=case.pk, staff_id=ana.pk)
    assert (refused.value.code, refused.value.http_status) == ("screening_hits_pending", 409)
    case.refresh_from_db()
    assert (case.state, case.prepared_by_id) == ("in_review", None)
    assert selectors.tier_of(user_id=user.pk) == 1
    assert len(events("kyc.approved")) == approvals

    decide(client, "decide_false_positive", ScreeningHit.objects.get(), apply="1", note="no")
    assert services.case_approve(case_id=case.pk, staff_id=ana.pk) == "pending_second_review"


def test_a_decided_entry_is_not_raised_again_unless_it_changed():
    user, _ = approved_tier1()
    entry = listed()
    rescreen()
    reviewer = staff("ana@finstack.test", "compliance")
    services.hit_decide(
        hit_id=ScreeningHit.objects.get().pk,
        staff_id=reviewer.pk,
        decision="false_positive",
        note="other person",
    )

    assert rescreen() == "0 new screening hit(s)"
    listed()  # the same list loaded again: the same entry under a new row
    assert rescreen() == "0 new screening hit(s)"

    entry.date_of_birth = date(1990, 4, 12)  # the list now gives her birth date
    entry.save()
    assert rescreen() == "1 new screening hit(s)"

    pending = ScreeningHit.objects.get(decision="pending")
    assert (pending.user_id, pending.entry_id) == (user.pk, entry.pk)
    assert ScreeningHit.objects.count() == 2


def test_a_case_waiting_for_the_vendor_goes_to_a_reviewer():
    user = customer()
    case = submitted_tier2(user)
    listed()

    assert rescreen("--user", str(user.pk)) == "1 new screening hit(s)"

    case.refresh_from_db()
    assert case.state == "in_review"
    assert case.trail.last().reason_code == "screening_hit"
    assert ScreeningHit.objects.get().case_id == case.pk


def test_an_unknown_customer_is_refused():
    with pytest.raises(CommandError, match="no KYC profile"):
        rescreen("--user", "999999")


def test_one_customer_that_fails_does_not_stop_the_others():
    poison = customer("p@example.com")
    poison_case = submitted_tier2(poison)
    good, _ = approved_tier1("g@example.com")
    listed()
    database_refuses_changes("kyc_case", poison_case.pk)  # moving it to review fails

    assert rescreen() == "1 new screening hit(s)"

    assert list(ScreeningHit.objects.values_list("user_id", flat=True)) == [good.pk]
    poison_case.refresh_from_db()
    assert poison_case.state == "submitted"  # rolled back whole: no hit, no move
    failure = JobFailure.objects.get()
    assert (failure.job, failure.item, failure.attempts) == ("kyc.rescreen", str(poison.pk), 1)
    assert len(events("core.job_item_failed")) == 1


def test_hits_are_decided_one_by_one_and_only_by_reviewers(client, otp_login):
    approved_tier1("a@example.com")
    approved_tier1("b@example.com")
    listed()
    rescreen()
    otp_login(client, staff("ana@finstack.test", "compliance"))
    both = client.post(
        "/admin/kyc/screeninghit/",
        {
            "action": "decide_false_positive",
            "_selected_action": [h.pk for h in ScreeningHit.objects.all()],
            "apply": "1",
            "note": "x",
        },
    )
    assert b"Select one hit: each is decided on its own." in client.get(both["Location"]).content
    assert set(ScreeningHit.objects.values_list("decision", flat=True)) == {"pending"}

    client.logout()
    operations = staff("ops@finstack.test", "operations")
    otp_login(client, operations)
    hit = ScreeningHit.objects.first()
    assert client.get("/admin/kyc/screeninghit/").status_code == 403
    assert decide(client, "decide_true_match", hit, apply="1", note="x").status_code == 403
    with pytest.raises(errors.NotPermitted):
        services.hit_decide(hit_id=hit.pk, staff_id=operations.pk, decision="true_match", note="x")
    assert set(ScreeningHit.objects.values_list("decision", flat=True)) == {"pending"}
    assert selectors.tier_of(user_id=hit.user_id) == 1


def test_compliance_rescreens_a_customer_from_the_profile_admin(client, ana):
    user, _ = approved_tier1()
    listed()

    done = client.post("/admin/kyc/profile/", {"action": "rescreen", "_selected_action": [user.pk]})

    assert b"1 new screening hit(s)." in client.get(done["Location"]).content
    assert ScreeningHit.objects.get().user_id == user.pk
