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
    from auditlog.models import LogEntry
    from django.contrib.auth.models import Group

    wallet = make_wallet()
    officer = get_user_model().objects.create_user("cleo@finstack.test", "pw", is_staff=True)
    officer.groups.add(Group.objects.get(name="compliance"))
    by = ("--by", "cleo@finstack.test")
    call_command("wallet_freeze", str(wallet.pk), "--reason", "court order", *by)
    assert Wallet.objects.get(pk=wallet.pk).status == "frozen"
    call_command("wallet_freeze", str(wallet.pk), "--reason", "lifted", "--unfreeze", *by)
    assert Wallet.objects.get(pk=wallet.pk).status == "active"
    changes = WalletStatusChange.objects.order_by("created_at")
    assert [(c.reason, c.changed_by_id) for c in changes] == [
        ("court order", officer.pk),
        ("lifted", officer.pk),
    ]
    logged = LogEntry.objects.get_for_object(wallet).filter(action=LogEntry.Action.UPDATE)
    logged = logged.order_by("timestamp")
    assert [(e.actor_id, e.changes_dict["status"]) for e in logged] == [
        (officer.pk, ["active", "frozen"]),
        (officer.pk, ["frozen", "active"]),
    ]
    with pytest.raises(CommandError, match="No wallet"):
        call_command("wallet_freeze", "00000000-0000-0000-0000-000000000000", "--reason", "x", *by)


def test_wallet_freeze_needs_a_staff_member_with_the_role():
    wallet = make_wallet()
    get_user_model().objects.create_user("sam@finstack.test", "pw", is_staff=True)  # no role
    for by in ("sam@finstack.test", "nobody@finstack.test"):
        with pytest.raises(CommandError, match="not a compliance or operations"):
            call_command("wallet_freeze", str(wallet.pk), "--reason", "x", "--by", by)
    assert Wallet.objects.get(pk=wallet.pk).status == "active"
    assert not WalletStatusChange.objects.exists()
