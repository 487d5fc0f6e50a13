from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.kyc.tests.factories import set_limits, verified_phone
from apps.wallets import services
from apps.wallets.models import MoneyRequest, Transfer
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet
from apps.wallets.tests.test_api_members import inbox

pytestmark = pytest.mark.django_db
URL = "/api/v1/money-requests"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


def ask(client, contact, amount=2500, **fields):
    return client.post(
        URL, {"contact": contact, "amount": amount, "currency": "EUR", **fields}, format="json"
    )


def people(funded=10_000):
    ann = make_user("ann@example.com", first_name="Ann")
    bob = make_user("bob@example.com", first_name="Bob")
    return ann, make_wallet(ann), bob, make_wallet(bob, funded=funded)


def test_request_accept_pays_once_and_both_sides_are_told(auth_client, run):
    ann, ann_wallet, bob, bob_wallet = people()
    created = run(ask, auth_client(ann), "BOB@example.com", note="Concert tickets")
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("direction", "contact", "wallet", "amount", "state", "note")} == {
        "direction": "outgoing",
        "contact": "bob@example.com",
        "wallet": str(ann_wallet.pk),
        "amount": 2500,
        "state": "pending",
        "note": "Concert tickets",
    }
    assert inbox(bob) == [("money_request", "Ann asks you for 25.00 EUR")]
    incoming = auth_client(bob).get(URL, {"direction": "incoming"}).json()["results"]
    assert [(r["id"], r["requester"], r["contact"], r["wallet"]) for r in incoming] == [
        (body["id"], "Ann", None, None)
    ]
    assert auth_client(ann).get(URL, {"direction": "incoming"}).json()["results"] == []

    accepted = run(auth_client(bob).post, f"{URL}/{body['id']}/accept", {}, format="json")
    assert accepted.status_code == 200
    paid = accepted.json()
    assert paid["state"] == "accepted"
    assert (paid["transfer"]["status"], paid["transfer"]["amount"]) == ("completed", 2500)
    assert paid["transfer_id"] == paid["transfer"]["id"]
    assert (balance_of(ann_wallet), balance_of(bob_wallet)) == (2500, 7500)
    assert ("money_request_closed", "Bob paid your request for 25.00 EUR") in inbox(ann)
    assert "money_received" in [kind for kind, _ in inbox(ann)]  # the transfer's own notice
    again = auth_client(bob).post(f"{URL}/{body['id']}/accept", {}, format="json")
    assert again.status_code == 200
    assert again.json()["state"] == "accepted"
    assert (balance_of(ann_wallet), balance_of(bob_wallet)) == (2500, 7500)
    assert Transfer.objects.count() == 1
    late_decline = auth_client(bob).post(f"{URL}/{body['id']}/decline")
    assert late_decline.status_code == 409
    assert late_decline.json()["error"]["code"] == "money_request_not_pending"


def test_accepting_after_a_lost_answer_still_pays_once(auth_client):
    ann, ann_wallet, bob, bob_wallet = people()
    request_id = ask(auth_client(ann), "bob@example.com").json()["id"]
    # The transfer went through under the request's key but the request's row was not
    # updated (as if the answer was lost before the state was saved): accept finds it.
    services.transfer_create(
        source_wallet_id=bob_wallet.pk,
        destination=str(ann_wallet.pk),
        amount=Money(2500, "EUR"),
        requested_by_id=bob.pk,
        idempotency_key=f"money-request:{request_id}",
    )
    accepted = auth_client(bob).post(f"{URL}/{request_id}/accept", {}, format="json")
    assert accepted.status_code == 200
    assert (balance_of(ann_wallet), balance_of(bob_wallet)) == (2500, 7500)
    assert Transfer.objects.count() == 1


def test_accept_follows_the_transfer_rules_and_moves_nothing(auth_client, money_state):
    ann, ann_wallet, bob, bob_wallet = people(funded=1000)
    request_id = ask(auth_client(ann), "bob@example.com", amount=5000).json()["id"]
    before = money_state(ann_wallet, bob_wallet)
    poor = auth_client(bob).post(f"{URL}/{request_id}/accept", {}, format="json")
    assert poor.status_code == 422
    assert poor.json()["error"]["code"] == "insufficient_funds"
    set_limits(1, per_transaction=100)
    set_limits(0, per_transaction=100)
    over = auth_client(bob).post(f"{URL}/{request_id}/accept", {}, format="json")
    assert over.status_code == 422
    assert over.json()["error"]["code"] == "limit_exceeded"
    services.wallet_set_status(
        wallet_id=bob_wallet.pk, status="frozen", reason="review", changed_by_id=None
    )
    frozen = auth_client(bob).post(f"{URL}/{request_id}/accept", {}, format="json")
    assert frozen.status_code == 422
    assert frozen.json()["error"]["code"] == "wallet_frozen"
    assert money_state(ann_wallet, bob_wallet) == before
    assert MoneyRequest.objects.get().state == "pending"
    assert not OutboxEvent.objects.filter(type="wallets.money_request_closed").exists()


def test_an_unknown_payer_gets_the_same_answer(auth_client):
    ann, _, bob, _ = people()
    unverified = make_user()
    type(unverified).objects.filter(pk=unverified.pk).update(phone="+4915100000009")
    verified_phone(bob.pk, "+4915100000008")
    client = auth_client(ann)
    answers = [
        ask(client, c)
        for c in ("bob@example.com", "ghost@example.com", "+4915100000009", "+4915100000008")
    ]
    shapes = {(r.status_code, r.json()["state"], tuple(sorted(r.json()))) for r in answers}
    assert shapes == {(201, "pending", tuple(sorted(answers[0].json())))}
    events = OutboxEvent.objects.filter(type="wallets.money_requested")
    assert [e.payload["payer_id"] for e in events] == [bob.pk, bob.pk]
    assert inbox(unverified) == []


def test_decline_and_cancel(auth_client, run):
    ann, _, bob, _ = people()
    first = ask(auth_client(ann), "bob@example.com").json()["id"]
    second = ask(auth_client(ann), "bob@example.com").json()["id"]
    not_his = auth_client(bob).post(f"{URL}/{first}/cancel")
    assert not_his.status_code == 404
    assert not_his.json()["error"]["code"] == "money_request_not_found"
    not_hers = auth_client(ann).post(f"{URL}/{first}/accept", {}, format="json")
    assert not_hers.status_code == 404

    declined = run(auth_client(bob).post, f"{URL}/{first}/decline")
    assert (declined.status_code, declined.json()["state"]) == (200, "declined")
    assert ("money_request_closed", "Bob declined your request for 25.00 EUR") in inbox(ann)
    cancelled = run(auth_client(ann).post, f"{URL}/{second}/cancel")
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    assert inbox(bob)[-1] == ("money_request_closed", "Ann withdrew a request for 25.00 EUR")
    pay_cancelled = auth_client(bob).post(f"{URL}/{second}/accept", {}, format="json")
    assert pay_cancelled.status_code == 409
    assert pay_cancelled.json()["error"]["details"] == {"state": "cancelled"}
    states = auth_client(ann).get(URL, {"direction": "outgoing"}).json()["results"]
    assert sorted(r["state"] for r in states) == ["cancelled", "declined"]


def test_request_refusals(auth_client):
    ann, _, _, _ = people()
    client = auth_client(ann)
    own = ask(client, "ann@example.com")
    assert (own.status_code, own.json()["error"]["code"]) == (422, "self_request")
    no_wallet = ask(client, "bob@example.com", currency="USD")
    assert (no_wallet.status_code, no_wallet.json()["error"]["code"]) == (404, "wallet_not_found")
    bad = ask(client, "bob", amount=0)
    assert bad.status_code == 400
    assert sorted(bad.json()["error"]["details"]) == ["amount", "contact"]
    assert not MoneyRequest.objects.exists()


def test_due_requests_expire_and_the_requester_is_told(auth_client, run, settings):
    ann, ann_wallet, bob, bob_wallet = people()
    due = ask(auth_client(ann), "bob@example.com").json()["id"]
    fresh = ask(auth_client(ann), "bob@example.com").json()["id"]
    MoneyRequest.objects.filter(pk=due).update(expires_at=timezone.now() - timedelta(minutes=1))
    late = auth_client(bob).post(f"{URL}/{due}/accept", {}, format="json")
    assert late.status_code == 409
    assert late.json()["error"]["details"] == {"state": "expired"}
    assert balance_of(ann_wallet) == 0

    from apps.wallets.tasks import money_requests_expire

    run(money_requests_expire.delay)
    assert dict(MoneyRequest.objects.values_list("pk", "state")) == {
        MoneyRequest.objects.get(pk=due).pk: "expired",
        MoneyRequest.objects.get(pk=fresh).pk: "pending",
    }
    assert inbox(ann)[-1] == ("money_request_closed", "Your request for 25.00 EUR expired")
    assert services.money_requests_expire() == 0  # nothing left to do
    assert "wallets.money_requests_expire" in settings.CELERY_BEAT_SCHEDULE
