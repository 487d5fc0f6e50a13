"""Verified identity is locked: once a case is approved, the details it verified change only
through a new case (the tier drops to what is still verified, both written to the trail)."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts import services as accounts_services
from apps.core.models import OutboxEvent
from apps.kyc import selectors, services
from apps.kyc.models import Case, CaseTransition, Profile
from apps.kyc.tests.factories import PROFILE, jpeg, pdf, verified_phone

pytestmark = pytest.mark.django_db

LOCKED_MESSAGE = (
    "These details were verified and cannot be edited; send the change with "
    '"reverify": true to open a new verification case.'
)


def locked(*fields: str) -> dict:
    return {
        "error": {
            "code": "identity_locked",
            "message": LOCKED_MESSAGE,
            "details": {"fields": list(fields)},
        }
    }


@pytest.fixture
def user():
    return get_user_model().objects.create_user("karla@example.com", "pw")


@pytest.fixture
def app(auth_client, user):
    return auth_client(user)


@pytest.fixture
def tier1(app, user):
    assert app.put("/api/v1/kyc/profile", PROFILE, format="json").status_code == 200
    verified_phone(user.pk)
    assert app.post("/api/v1/kyc/submit", {"tier": 1}, format="json").json()["tier"] == 1
    return user


@pytest.fixture
def tier2(tier1):
    for kind, data in (("passport", jpeg()), ("selfie", jpeg()), ("proof_of_address", pdf())):
        services.document_add(user_id=tier1.pk, type=kind, data=data)
    case_id = services.case_submit(user_id=tier1.pk, target_tier=2)
    ana, ben = (
        accounts_services.staff_user_create(email=email, role="compliance", password="pw")
        for email in ("ana@finstack.test", "ben@finstack.test")
    )
    services.case_assign(case_id=case_id, staff_id=ana)
    services.case_approve(case_id=case_id, staff_id=ana)
    assert services.case_approve(case_id=case_id, staff_id=ben) == "approved"
    return tier1


def state(user) -> tuple:
    profile = Profile.objects.get(user_id=user.pk)
    return (
        {name: getattr(profile, name) for name in PROFILE},
        profile.updated_at,
        selectors.tier_of(user_id=user.pk),
        list(Case.objects.order_by("created_at").values_list("target_tier", "state")),
        CaseTransition.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_changing_the_verified_name_and_birth_date_after_approval_is_refused(app, tier1):
    before = state(tier1)
    response = app.put(
        "/api/v1/kyc/profile",
        {**PROFILE, "legal_last_name": "Other", "date_of_birth": "1980-01-01"},
        format="json",
    )
    assert (response.status_code, response.json()) == (
        409,
        locked("legal_last_name", "date_of_birth"),
    )
    assert state(tier1) == before
    assert app.get("/api/v1/kyc/profile").json()["legal_last_name"] == "Kovacs"


def test_the_address_is_locked_once_tier_2_verified_it(app, tier2):
    before = state(tier2)
    response = app.put("/api/v1/kyc/profile", {**PROFILE, "city": "Hamburg"}, format="json")
    assert (response.status_code, response.json()) == (409, locked("city"))
    assert state(tier2) == before


def test_unverified_details_stay_editable_after_approval(app, tier1):
    changes = {"city": "Hamburg", "address_line": "Elbchaussee 2", "tax_id": "DE 999 888 777"}
    response = app.put("/api/v1/kyc/profile", {**PROFILE, **changes}, format="json")
    assert response.status_code == 200
    assert Profile.objects.get(user_id=tier1.pk).city == "Hamburg"
    assert selectors.tier_of(user_id=tier1.pk) == 1
    assert Case.objects.get(user_id=tier1.pk).state == "approved"


def test_edits_before_any_approval_still_work(app, user):
    assert app.put("/api/v1/kyc/profile", PROFILE, format="json").status_code == 200
    changed = {**PROFILE, "legal_last_name": "Other", "date_of_birth": "1980-01-01"}
    response = app.put("/api/v1/kyc/profile", changed, format="json")
    assert response.status_code == 200
    profile = Profile.objects.get(user_id=user.pk)
    assert (profile.legal_last_name, profile.date_of_birth.isoformat()) == ("Other", "1980-01-01")


def test_a_new_identity_with_reverify_opens_a_case_and_drops_the_tier(app, tier1):
    approved = Case.objects.get(user_id=tier1.pk)
    response = app.put(
        "/api/v1/kyc/profile",
        {**PROFILE, "legal_last_name": "Other", "reverify": True},
        format="json",
    )
    assert response.status_code == 200
    assert "reverify" not in response.json()
    assert Profile.objects.get(user_id=tier1.pk).legal_last_name == "Other"
    assert selectors.tier_of(user_id=tier1.pk) == 0
    approved.refresh_from_db()
    assert approved.state == "expired"
    assert approved.trail.values_list("to_state", "reason_code", "staff_note").last() == (
        "expired",
        "identity_changed",
        "changed: legal_last_name",
    )
    new = Case.objects.exclude(pk=approved.pk).get(user_id=tier1.pk)
    assert (new.state, new.target_tier_id) == ("draft", 1)
    assert list(new.trail.values_list("from_state", "to_state", "reason_code", "staff_note")) == [
        ("draft", "draft", "identity_changed", "changed: legal_last_name; tier now 0")
    ]
    changes = OutboxEvent.objects.filter(type="kyc.tier_changed").values_list("payload", flat=True)
    assert sorted((p["from_level"], p["to_level"]) for p in changes) == [(0, 1), (1, 0)]
    # the customer verifies again through the new case
    assert app.post("/api/v1/kyc/submit", {"tier": 1}, format="json").json()["tier"] == 1


def test_a_new_address_with_reverify_keeps_what_tier_1_verified(app, tier2):
    response = app.put(
        "/api/v1/kyc/profile", {**PROFILE, "city": "Hamburg", "reverify": True}, format="json"
    )
    assert response.status_code == 200
    assert selectors.tier_of(user_id=tier2.pk) == 1
    assert list(Case.objects.order_by("created_at").values_list("target_tier", "state")) == [
        (1, "approved"),
        (2, "expired"),
        (2, "draft"),
    ]


def test_reverify_while_a_case_is_under_review_is_refused_and_changes_nothing(app, tier1):
    for kind, data in (("passport", jpeg()), ("selfie", jpeg()), ("proof_of_address", pdf())):
        services.document_add(user_id=tier1.pk, type=kind, data=data)
    services.case_submit(user_id=tier1.pk, target_tier=2)
    before = state(tier1)
    response = app.put(
        "/api/v1/kyc/profile",
        {**PROFILE, "legal_last_name": "Other", "reverify": True},
        format="json",
    )
    assert (response.status_code, response.json()) == (
        409,
        {
            "error": {
                "code": "case_not_open",
                "message": "There is no case you can change right now.",
                "details": {"state": "submitted"},
            }
        },
    )
    assert state(tier1) == before
