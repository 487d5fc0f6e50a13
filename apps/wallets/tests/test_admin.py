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


@pytest.mark.parametrize("model", ["wallet", "transfer", "walletmember", "moneyrequest"])
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


def test_close_wallet_action_keeps_who_and_why(admin_client_):
    client, user = admin_client_
    empty, funded = make_wallet(), make_wallet(funded=500)
    form = client.post(
        "/admin/wallets/wallet/", {"action": "close", "_selected_action": [empty.pk]}
    )
    assert form.status_code == 200
    assert "reason" in form.content.decode()
    assert Wallet.objects.get(pk=empty.pk).status == "active"
    page = client.post(
        "/admin/wallets/wallet/",
        {
            "action": "close",
            "_selected_action": [empty.pk, funded.pk],
            "reason": "Customer asked by phone, ticket 12",
        },
        follow=True,
    )
    text = page.content.decode()
    assert "1 wallet(s) now closed." in text
    assert "Move the money out of the wallet before closing it." in text
    change = WalletStatusChange.objects.get(wallet=empty)
    assert (change.to_status, change.reason, change.changed_by) == (
        "closed",
        "Customer asked by phone, ticket 12",
        user,
    )
    assert Wallet.objects.get(pk=funded.pk).status == "active"
    assert not WalletStatusChange.objects.filter(wallet=funded).exists()
    detail = client.get(f"/admin/wallets/wallet/{empty.pk}/change/").content.decode()
    assert "Customer asked by phone, ticket 12" in detail


def test_support_staff_cannot_close_wallets(client, otp_login):
    from django.contrib.auth.models import Group

    agent = get_user_model().objects.create_user("sue@finstack.test", "pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="support"))
    otp_login(client, agent)
    wallet = make_wallet()
    page = client.get("/admin/wallets/wallet/").content.decode()
    assert 'value="close"' not in page
    client.post(
        "/admin/wallets/wallet/",
        {"action": "close", "_selected_action": [wallet.pk], "reason": "x"},
    )
    assert Wallet.objects.get(pk=wallet.pk).status == "active"


def _with_member(role="spender"):
    from apps.wallets import services
    from apps.wallets.models import WalletMember
    from apps.wallets.tests.factories import make_user

    owner, bob = make_user(), make_user()
    wallet = make_wallet(owner, shared=True, name="Flat")
    services.wallet_member_add(wallet_id=wallet.pk, owner_id=owner.pk, member_id=bob.pk, role=role)
    return wallet, WalletMember.objects.get(wallet=wallet)


def test_staff_change_a_member_with_a_reason(admin_client_):
    from apps.core.models import OutboxEvent
    from apps.wallets.models import WalletMember, WalletMemberChange

    client, user = admin_client_
    wallet, member = _with_member()
    page = client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").content.decode()
    assert f"/admin/wallets/walletmember/{member.pk}/change/" in page
    url = f"/admin/wallets/walletmember/{member.pk}/change/"
    assert client.get(url).status_code == 200
    no_reason = client.post(url, {"role": "viewer", "daily_limit": "200"})
    assert no_reason.status_code == 200  # the form again, with the error
    assert WalletMember.objects.get(pk=member.pk).role == "spender"
    response = client.post(
        url, {"role": "viewer", "daily_limit": "200", "reason": "Owner asked, ticket 7"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.daily_limit) == ("viewer", 200)
    change = WalletMemberChange.objects.get()
    assert (change.action, change.reason, change.changed_by) == (
        "changed",
        "Owner asked, ticket 7",
        user,
    )
    event = OutboxEvent.objects.get(type="wallets.member_changed")
    assert event.payload["by_staff"] is True


def test_staff_remove_a_member_with_a_reason(admin_client_):
    from apps.wallets.models import WalletMember, WalletMemberChange

    client, user = admin_client_
    wallet, member = _with_member()
    form = client.post(
        "/admin/wallets/walletmember/", {"action": "remove", "_selected_action": [member.pk]}
    )
    assert form.status_code == 200
    assert WalletMember.objects.filter(pk=member.pk).exists()
    client.post(
        "/admin/wallets/walletmember/",
        {"action": "remove", "_selected_action": [member.pk], "reason": "Fraud case 31"},
    )
    assert not WalletMember.objects.filter(pk=member.pk).exists()
    change = WalletMemberChange.objects.get()
    assert (change.action, change.user_id, change.reason, change.changed_by) == (
        "removed",
        member.user_id,
        "Fraud case 31",
        user,
    )
    page = client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").content.decode()
    assert "Fraud case 31" in page


def test_support_staff_see_members_but_cannot_change_them(client, otp_login):
    from django.contrib.auth.models import Group

    from apps.wallets.models import WalletMember

    agent = get_user_model().objects.create_user("sid@finstack.test", "pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="support"))
    otp_login(client, agent)
    _, member = _with_member()
    url = f"/admin/wallets/walletmember/{member.pk}/change/"
    assert client.get(url).status_code == 200
    client.post(url, {"role": "viewer", "reason": "x"})
    client.post(
        "/admin/wallets/walletmember/",
        {"action": "remove", "_selected_action": [member.pk], "reason": "x"},
    )
    assert WalletMember.objects.get(pk=member.pk).role == "spender"
