"""The customer withdraws one of their open verification cases over the API: once, with the
same answer when asked again; a decided case or another customer's case stays as it was."""

import pytest
from django.contrib.auth import get_user_model

from apps.core.models import OutboxEvent
from apps.kyc import services
from apps.kyc.models import Case
from apps.kyc.tests.factories import draft_case
from apps.kyc.tests.test_review import customer, staff, submitted_tier2, trail, vendor_answers

pytestmark = pytest.mark.django_db


def url(case_id):
    return f"/api/v1/kyc/cases/{case_id}/withdraw"


def withdrawn_events():
    return list(OutboxEvent.objects.filter(type="kyc.withdrawn").values_list("payload", flat=True))


def draft(user):
    return Case.objects.get(pk=draft_case(user.pk))


def in_review(user):
    case = submitted_tier2(user)
    vendor_answers(case)
    case.refresh_from_db()
    return case


@pytest.mark.parametrize(
    ("make", "before"),
    [
        (draft, ["withdrawn"]),
        (submitted_tier2, ["submitted", "withdrawn"]),
        (in_review, ["submitted", "in_review", "withdrawn"]),
    ],
)
def test_an_open_case_is_withdrawn(auth_client, make, before):
    user = customer()
    case = make(user)

    response = auth_client(user).post(url(case.pk))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"]) == (str(case.pk), "withdrawn")
    case.refresh_from_db()
    assert case.state == "withdrawn"
    assert trail(case) == before
    step = case.trail.last()
    assert (step.reason_code, step.by_id) == ("withdrawn by the customer", None)
    assert body["withdrawn_at"] == step.at.isoformat().replace("+00:00", "Z")
    assert withdrawn_events() == [{"case_id": str(case.pk), "user_id": user.pk}]


def test_withdrawing_again_answers_the_same_and_changes_nothing(auth_client):
    user = customer()
    case = submitted_tier2(user)
    app = auth_client(user)
    first = app.post(url(case.pk))

    again = app.post(url(case.pk))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert trail(case) == ["submitted", "withdrawn"]
    assert len(withdrawn_events()) == 1


def test_a_new_case_can_be_opened_after_a_withdrawal(auth_client):
    user = customer()
    case = draft(user)
    auth_client(user).post(url(case.pk))
    assert Case.objects.get(pk=draft_case(user.pk)).state == "draft"


@pytest.mark.parametrize("decided", ["approved", "rejected_final"])
def test_a_decided_case_cannot_be_withdrawn(auth_client, decided):
    user = customer()
    if decided == "approved":
        case = Case.objects.get(pk=services.case_submit(user_id=user.pk, target_tier=1))
    else:
        case = in_review(user)
        services.case_reject(
            case_id=case.pk,
            staff_id=staff("ana@finstack.test", "compliance").pk,
            reason_code="unable_to_verify",
        )
    case.refresh_from_db()
    steps = trail(case)

    response = auth_client(user).post(url(case.pk))

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "case_not_withdrawable",
            "message": "This case is already decided; it cannot be withdrawn.",
            "details": {"state": decided},
        }
    }
    case.refresh_from_db()
    assert case.state == decided
    assert trail(case) == steps
    assert withdrawn_events() == []
    if decided == "approved":
        assert auth_client(user).get("/api/v1/kyc/status").json()["tier"] == 1


def test_another_customers_case_is_not_found_and_stays_open(auth_client):
    owner = customer("owner@example.com")
    case = submitted_tier2(owner)
    intruder = get_user_model().objects.create_user("mallory@example.com", "pw")

    response = auth_client(intruder).post(url(case.pk))

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "case_not_found", "message": "No such case.", "details": {}}
    }
    case.refresh_from_db()
    assert case.state == "submitted"
    assert trail(case) == ["submitted"]
    assert withdrawn_events() == []


def test_a_case_that_does_not_exist_is_not_found(auth_client):
    user = customer()
    response = auth_client(user).post(url("00000000-0000-0000-0000-000000000000"))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "case_not_found")


def test_without_a_login_nothing_is_withdrawn(api_client):
    case = draft(customer())

    response = api_client.post(url(case.pk))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    case.refresh_from_db()
    assert case.state == "draft"
    assert withdrawn_events() == []
