import pytest

from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.kyc.tests.factories import set_limits
from apps.wallets.models import Transfer, WalletMember
from apps.wallets.services import wallet_member_add, wallet_set_status
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db
URL = "/api/v1/transfers"


def send(client, source, destination, amount, key="k-1", currency="EUR", note=""):
    return client.post(
        URL,
        {
            "source_wallet": str(source.pk),
            "destination": str(destination),
            "amount": amount,
            "currency": currency,
            "note": note,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_transfer_moves_money_and_answers_201(auth_client):
    source, target = make_wallet(funded=1000), make_wallet()
    response = send(auth_client(source.owner), source, target.pk, 250, note="pizza")
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k]
        for k in (
            "source_wallet",
            "destination_wallet",
            "amount",
            "fee",
            "currency",
            "note",
            "status",
        )
    } == {
        "source_wallet": str(source.pk),
        "destination_wallet": str(target.pk),
        "amount": 250,
        "fee": 0,
        "currency": "EUR",
        "note": "pizza",
        "status": "completed",
    }
    assert (balance_of(source), balance_of(target)) == (750, 250)
    assert Transfer.objects.get(pk=body["id"]).id.version == 7  # time-ordered
    event = OutboxEvent.objects.get(type="wallets.transfer_completed")
    assert event.payload["recipient_id"] == target.owner_id
    assert event.payload["sender_id"] == source.owner_id


def test_transfer_to_a_recipient_by_email(auth_client):
    source = make_wallet(funded=1000)
    bob = make_user("bob@finstack.test")
    target = make_wallet(bob)
    response = send(auth_client(source.owner), source, "BOB@finstack.test", 100)
    assert response.status_code == 201
    assert response.json()["destination_wallet"] == str(target.pk)
    assert balance_of(target) == 100


def test_transfer_to_a_recipient_by_verified_phone_only(auth_client):
    source = make_wallet(funded=1000)
    bob, eve = make_user("bob@finstack.test"), make_user("eve@finstack.test")
    target = make_wallet(bob)
    make_wallet(eve)
    type(bob).objects.filter(pk=bob.pk).update(phone="+4915112345678", phone_verified=True)
    type(eve).objects.filter(pk=eve.pk).update(phone="+4915199999999", phone_verified=False)
    client = auth_client(source.owner)
    response = send(client, source, "+4915112345678", 100)
    assert response.status_code == 201
    assert response.json()["destination_wallet"] == str(target.pk)
    # An unverified number may belong to anybody: it finds no one, and nothing moves.
    refused = send(client, source, "+4915199999999", 100, key="k-2")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "recipient_not_found"
    assert (balance_of(source), balance_of(target)) == (900, 100)


def test_replay_returns_the_stored_answer_without_moving_money_again(auth_client):
    source, target = make_wallet(funded=1000), make_wallet()
    client = auth_client(source.owner)
    first = send(client, source, target.pk, 100, key="same")
    again = send(client, source, target.pk, 100, key="same")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert (balance_of(source), Transfer.objects.count()) == (900, 1)


def test_missing_idempotency_key_is_a_400_and_nothing_moves(auth_client, money_state):
    source, target = make_wallet(funded=1000), make_wallet()
    before = money_state(source, target)
    response = auth_client(source.owner).post(
        URL,
        {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": 1,
            "currency": "EUR",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert money_state(source, target) == before


def test_same_key_different_body_is_a_422_naming_the_fields(auth_client, money_state):
    source, target = make_wallet(funded=1000), make_wallet()
    client = auth_client(source.owner)
    send(client, source, target.pk, 100, key="k")
    before = money_state(source, target)
    response = send(client, source, target.pk, 101, key="k", note="changed")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was used for a different request.",
        "details": {"fields": ["amount", "note"]},
    }
    assert money_state(source, target) == before


def test_keys_are_scoped_per_user(auth_client):
    alice_wallet, bob_wallet = make_wallet(funded=500), make_wallet(funded=500)
    assert (
        send(
            auth_client(alice_wallet.owner), alice_wallet, bob_wallet.pk, 5, key="shared-key"
        ).status_code
        == 201
    )
    assert (
        send(
            auth_client(bob_wallet.owner), bob_wallet, alice_wallet.pk, 7, key="shared-key"
        ).status_code
        == 201
    )
    assert Transfer.objects.count() == 2


def test_insufficient_funds_is_refused_replayed_and_nothing_moves(auth_client, money_state):
    source, target = make_wallet(funded=500), make_wallet()
    client = auth_client(source.owner)
    before = money_state(source, target)
    response = send(client, source, target.pk, 501, key="too-much")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "insufficient_funds"
    assert (error["details"]["available"], error["details"]["requested"]) == (500, 501)
    assert money_state(source, target) == before
    again = send(client, source, target.pk, 501, key="too-much")
    assert (again.status_code, again["Idempotent-Replayed"]) == (422, "true")


def test_invalid_input_releases_the_key(auth_client):
    source, target = make_wallet(funded=500), make_wallet()
    client = auth_client(source.owner)
    response = send(client, source, target.pk, 0, key="fix-me")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "amount": ["Ensure this value is greater than or equal to 1."]
    }
    assert not IdempotencyRecord.objects.filter(key="fix-me").exists()
    assert send(client, source, target.pk, 5, key="fix-me").status_code == 201


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("frozen", 422, "wallet_frozen"),
        ("currency", 422, "currency_mismatch"),
        ("self", 422, "self_transfer"),
        ("unknown_recipient", 404, "recipient_not_found"),
        ("not_my_wallet", 404, "wallet_not_found"),
        ("closed_recipient", 422, "wallet_closed"),
    ],
)
def test_refusals_have_specific_codes_and_move_nothing(
    auth_client, money_state, case, status, code
):
    source, target = make_wallet(funded=1000), make_wallet()
    sender = source.owner
    destination, currency, from_wallet = target.pk, "EUR", source
    if case == "frozen":
        wallet_set_status(
            wallet_id=source.pk, status="frozen", reason="AML review", changed_by_id=None
        )
    elif case == "currency":
        destination = make_wallet(currency="USD").pk
    elif case == "self":
        destination = source.pk
    elif case == "unknown_recipient":
        destination = "nobody@finstack.test"
    elif case == "not_my_wallet":
        sender = make_user()
    elif case == "closed_recipient":
        wallet_set_status(
            wallet_id=target.pk, status="closed", reason="customer left", changed_by_id=None
        )
    before = money_state(source, target)
    response = send(auth_client(sender), from_wallet, destination, 10, currency=currency)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert money_state(source, target) == before


def test_frozen_wallet_still_receives(auth_client):
    source, target = make_wallet(funded=100), make_wallet()
    wallet_set_status(wallet_id=target.pk, status="frozen", reason="AML", changed_by_id=None)
    assert send(auth_client(source.owner), source, target.pk, 10).status_code == 201
    assert balance_of(target) == 10


def test_daily_limit_spans_all_of_a_users_wallets(auth_client, money_state):
    set_limits(per_transaction=1000, daily=1500, monthly=10_000, max_balance=100_000)
    alice = make_user()
    eur_a = make_wallet(alice, funded=5000)
    eur_b = make_wallet(alice, shared=True, funded=5000)
    target = make_wallet()
    client = auth_client(alice)
    assert send(client, eur_a, target.pk, 1000, key="1").status_code == 201
    before = money_state(eur_a, eur_b, target)
    response = send(client, eur_b, target.pk, 600, key="2")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {
        "limit": "daily",
        "limit_amount": 1500,
        "used": 1000,
        "requested": 600,
        "currency": "EUR",
    }
    assert money_state(eur_a, eur_b, target) == before
    too_big = send(client, eur_b, target.pk, 1001, key="3")
    assert too_big.json()["error"]["details"]["limit"] == "per_transaction"


def test_recipient_max_balance_is_a_limit_that_keeps_the_recipients_balance_private(
    auth_client, money_state
):
    set_limits(per_transaction=10_000, daily=10_000, monthly=10_000, max_balance=500)
    source, target = make_wallet(funded=1000), make_wallet(funded=400)
    before = money_state(source, target)
    response = send(auth_client(source.owner), source, target.pk, 101)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "limit_exceeded"
    assert response.json()["error"]["details"] == {
        "limit": "recipient_max_balance",
        "requested": 101,
        "currency": "EUR",
    }
    assert money_state(source, target) == before
    assert send(auth_client(source.owner), source, target.pk, 100, key="fits").status_code == 201


def test_shared_wallet_members_spend_within_their_own_limit(auth_client):
    owner, spender, viewer = make_user(), make_user(), make_user()
    shared = make_wallet(owner, shared=True, name="Household", funded=10_000)
    from apps.core.money import Money

    wallet_member_add(
        wallet_id=shared.pk, owner_id=owner.pk, member_id=spender.pk, daily_limit=Money(300, "EUR")
    )
    wallet_member_add(wallet_id=shared.pk, owner_id=owner.pk, member_id=viewer.pk, role="viewer")
    target = make_wallet()
    client = auth_client(spender)
    assert send(client, shared, target.pk, 200, key="a").status_code == 201
    response = send(client, shared, target.pk, 101, key="b")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["limit"] == "member_daily"
    assert send(auth_client(owner), shared, target.pk, 1000, key="c").status_code == 201
    refused = send(auth_client(viewer), shared, target.pk, 1, key="d")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed_to_send")
    assert balance_of(shared) == 10_000 - 1200
    assert WalletMember.objects.count() == 2


def test_optional_fee_goes_to_fee_income_in_the_same_transaction(auth_client, settings):
    from apps.ledger import selectors as ledger_selectors

    settings.WALLETS_P2P_FEE = 25
    source, target = make_wallet(funded=1000), make_wallet()
    response = send(auth_client(source.owner), source, target.pk, 100)
    assert response.json()["fee"] == 25
    assert (balance_of(source), balance_of(target)) == (875, 100)
    txn = ledger_selectors.transaction_get(
        transaction_id=Transfer.objects.get().ledger_transaction_id
    )
    assert len(txn.entries) == 3


def test_transfer_detail_is_private(auth_client):
    source, target = make_wallet(funded=100), make_wallet()
    transfer = send(auth_client(source.owner), source, target.pk, 10).json()
    assert auth_client(target.owner).get(f"{URL}/{transfer['id']}").status_code == 200
    stranger = auth_client(make_user()).get(f"{URL}/{transfer['id']}")
    assert stranger.status_code == 404


def test_anonymous_is_refused(api_client):
    source, target = make_wallet(funded=100), make_wallet()
    response = send(api_client, source, target.pk, 10)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_higher_tier_raises_the_limits_seen_by_transfers(auth_client):
    from apps.kyc import services as kyc_services

    set_limits(0, per_transaction=100, daily=10_000, monthly=10_000, max_balance=10**9)
    set_limits(1, per_transaction=5_000, daily=10_000, monthly=10_000, max_balance=10**9)
    source, target = make_wallet(funded=10_000), make_wallet()
    client = auth_client(source.owner)
    refused = send(client, source, target.pk, 500, key="t0")
    assert refused.json()["error"]["details"]["limit"] == "per_transaction"
    kyc_services.customer_tier_set(user_id=source.owner_id, level=1)
    assert send(client, source, target.pk, 500, key="t1").status_code == 201
    assert OutboxEvent.objects.get(type="kyc.tier_changed").payload == {
        "user_id": source.owner_id,
        "from_level": 0,
        "to_level": 1,
    }
