import pytest

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger import services as ledger_services
from apps.ledger.tests.factories import clearing
from apps.wallets import services
from apps.wallets.models import WalletStatusChange
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db


def close(client, wallet):
    return client.post(f"/api/v1/wallets/{wallet.pk}/close")


def test_owner_closes_an_empty_wallet_which_stays_listed(auth_client):
    owner = make_user()
    keep, spare = make_wallet(owner, funded=100), make_wallet(owner, "USD")
    client = auth_client(owner)
    response = close(client, spare)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (str(spare.pk), "closed")
    change = WalletStatusChange.objects.get(wallet=spare)
    assert (change.from_status, change.to_status, change.changed_by_id) == (
        "active",
        "closed",
        owner.pk,
    )
    event = OutboxEvent.objects.get(type="wallets.wallet_status_changed")
    assert (event.payload["wallet_id"], event.payload["to_status"]) == (str(spare.pk), "closed")

    again = close(client, spare)
    assert again.status_code == 200
    assert again.json()["status"] == "closed"
    assert WalletStatusChange.objects.filter(wallet=spare).count() == 1

    listed = client.get("/api/v1/wallets").json()["results"]
    assert [(w["id"], w["status"]) for w in listed] == [
        (str(keep.pk), "active"),
        (str(spare.pk), "closed"),
    ]
    only_closed = client.get("/api/v1/wallets", {"status": "closed"}).json()["results"]
    assert [w["id"] for w in only_closed] == [str(spare.pk)]
    assert client.get(f"/api/v1/wallets/{spare.pk}/transactions").status_code == 200
    bad = client.get("/api/v1/wallets", {"status": "gone"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["details"]) == ["status"]


def test_a_wallet_with_money_is_not_closed(auth_client):
    wallet = make_wallet(funded=1050)
    response = close(auth_client(wallet.owner), wallet)
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "wallet_not_empty",
            "message": "Move the money out of the wallet before closing it.",
            "details": {"posted": 1050, "currency": "EUR"},
        }
    }
    wallet.refresh_from_db()
    assert wallet.status == "active"
    assert balance_of(wallet) == 1050
    assert not WalletStatusChange.objects.exists()
    assert not OutboxEvent.objects.filter(type="wallets.wallet_status_changed").exists()


def test_a_wallet_with_an_open_hold_is_not_closed(auth_client):
    wallet = make_wallet(funded=300)
    ledger_services.hold_create(
        debit_account_id=wallet.ledger_account_id,
        credit_account_id=clearing(),
        amount=Money(300, "EUR"),
        idempotency_key="h-close",
        kind="withdrawal",
    )
    response = close(auth_client(wallet.owner), wallet)
    assert response.status_code == 409
    body = response.json()["error"]
    assert (body["code"], body["details"]) == (
        "wallet_has_open_holds",
        {"pending": 300, "transfers_in_review": 0, "currency": "EUR"},
    )
    wallet.refresh_from_db()
    assert wallet.status == "active"
    assert not WalletStatusChange.objects.exists()


def test_a_wallet_receiving_a_transfer_in_review_is_not_closed(auth_client, settings):
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 100, "deny": 10**12, "review_per_day": 10**12}},
    }
    source, target = make_wallet(funded=500), make_wallet()
    held = services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=Money(200, "EUR"),
        requested_by_id=source.owner_id,
        idempotency_key="review-1",
    )
    assert held.status == "review"
    response = close(auth_client(target.owner), target)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "wallet_has_open_holds"
    assert response.json()["error"]["details"]["transfers_in_review"] == 1
    target.refresh_from_db()
    assert target.status == "active"


def test_only_the_owner_closes_a_shared_wallet(auth_client):
    owner, member = make_user(), make_user()
    shared = make_wallet(owner, shared=True, name="Flat")
    services.wallet_member_add(wallet_id=shared.pk, owner_id=owner.pk, member_id=member.pk)
    response = close(auth_client(member), shared)
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "not_wallet_owner",
            "message": "Only the wallet's owner can do this.",
            "details": {},
        }
    }
    shared.refresh_from_db()
    assert shared.status == "active"


def test_no_money_moves_to_or_from_a_closed_wallet(auth_client):
    owner = make_user()
    closed, other = make_wallet(owner), make_wallet(funded=500)
    assert close(auth_client(owner), closed).status_code == 200
    for client, source, destination in (
        (auth_client(other.owner), other, closed),
        (auth_client(owner), closed, other),
    ):
        response = client.post(
            "/api/v1/transfers",
            {
                "source_wallet": str(source.pk),
                "destination": str(destination.pk),
                "amount": 100,
                "currency": "EUR",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"to-closed-{source.pk}",
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "wallet_closed"
    assert (balance_of(closed), balance_of(other)) == (0, 500)
    assert not OutboxEvent.objects.filter(type="wallets.transfer_completed").exists()


def test_a_closed_wallet_cannot_be_unfrozen_back_open():
    wallet = make_wallet()
    services.wallet_close(wallet_id=wallet.pk, user_id=wallet.owner_id)
    with pytest.raises(services.WalletClosed):
        services.wallet_set_status(
            wallet_id=wallet.pk, status="active", reason="reopen", changed_by_id=None
        )
    wallet.refresh_from_db()
    assert wallet.status == "closed"
