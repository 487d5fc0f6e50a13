import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apps.wallets.models import Wallet, WalletStatusChange
from apps.wallets.tests.factories import make_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, otp_login):
    user = get_user_model().objects.create_superuser("ops@finstack.test", "pw")
    otp_login(client, user)
    return client, user


@pytest.mark.parametrize("model", ["wallet", "transfer"])
def test_wallet_pages_render(admin_client_, model):
    client, _ = admin_client_
    wallet = make_wallet(funded=1050)
    assert client.get(f"/admin/wallets/{model}/").status_code == 200
    page = client.get(f"/admin/wallets/wallet/{wallet.pk}/change/")
    assert page.status_code == 200
    assert "10.50 EUR" in page.content.decode()
    assert client.get("/admin/core/idempotencyrecord/").status_code == 200


def test_freeze_asks_for_a_reason_then_keeps_it(admin_client_):
    client, user = admin_client_
    wallet = make_wallet()
    form = client.post(
        "/admin/wallets/wallet/", {"action": "freeze", "_selected_action": [wallet.pk]}
    )
    assert form.status_code == 200
    assert "reason" in form.content.decode()
    assert Wallet.objects.get(pk=wallet.pk).status == "active"
    client.post(
        "/admin/wallets/wallet/",
        {
            "action": "freeze",
            "_selected_action": [wallet.pk],
            "reason": "Suspicious activity, case 88",
        },
    )
    change = WalletStatusChange.objects.get(wallet=wallet)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "active",
        "frozen",
        "Suspicious activity, case 88",
        user,
    )
    assert Wallet.objects.get(pk=wallet.pk).status == "frozen"


def test_wallet_freeze_command(capsys):
    wallet = make_wallet()
    call_command("wallet_freeze", str(wallet.pk), "--reason", "court order")
    assert Wallet.objects.get(pk=wallet.pk).status == "frozen"
    call_command("wallet_freeze", str(wallet.pk), "--reason", "lifted", "--unfreeze")
    assert Wallet.objects.get(pk=wallet.pk).status == "active"
    assert [c.reason for c in WalletStatusChange.objects.order_by("created_at")] == [
        "court order",
        "lifted",
    ]
    with pytest.raises(CommandError, match="No wallet"):
        call_command("wallet_freeze", "00000000-0000-0000-0000-000000000000", "--reason", "x")
