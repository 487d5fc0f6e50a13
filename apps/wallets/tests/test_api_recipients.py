import pytest

from apps.wallets.services import wallet_close
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db
URL = "/api/v1/recipients"
NOT_FOUND = {
    "error": {
        "code": "recipient_not_found",
        "message": "No wallet found for that recipient.",
        "details": {},
    }
}


def test_lookup_by_email_names_the_recipient(auth_client):
    sender = make_user()
    make_wallet(make_user("Ada@Example.test", first_name="Ada", last_name="Lovelace"))
    response = auth_client(sender).get(URL, {"destination": "ada@example.test", "currency": "EUR"})
    assert response.status_code == 200
    assert response.json() == {"display_name": "Ada Lovelace", "currency": "EUR"}


def test_lookup_by_verified_phone_only(auth_client):
    sender = make_user()
    make_wallet(make_user(phone="+4915112345678", phone_verified=True, first_name="Grace"))
    make_wallet(make_user(phone="+4915100000000", phone_verified=False, first_name="Eve"))
    client = auth_client(sender)
    found = client.get(URL, {"destination": "+4915112345678", "currency": "EUR"})
    unverified = client.get(URL, {"destination": "+4915100000000", "currency": "EUR"})
    assert (found.status_code, found.json()) == (200, {"display_name": "Grace", "currency": "EUR"})
    assert (unverified.status_code, unverified.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("case", ["unknown", "other_currency", "closed", "inactive", "wallet_id"])
def test_lookup_refusals_are_one_404(auth_client, case):
    sender = make_user()
    owner = make_user("bob@example.test", is_active=case != "inactive")
    wallet = make_wallet(owner)
    if case == "closed":
        wallet_close(wallet_id=wallet.pk, user_id=owner.pk)
    destination = {"unknown": "nobody@example.test", "wallet_id": str(wallet.pk)}.get(
        case, "bob@example.test"
    )
    currency = "USD" if case == "other_currency" else "EUR"
    response = auth_client(sender).get(URL, {"destination": destination, "currency": currency})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_lookup_needs_login_and_a_currency(api_client, auth_client):
    anonymous = api_client.get(URL, {"destination": "bob@example.test", "currency": "EUR"})
    missing = auth_client(make_user()).get(URL, {"destination": "bob@example.test"})
    assert anonymous.status_code == 401
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "validation_error"
    assert set(missing.json()["error"]["details"]) == {"currency"}
