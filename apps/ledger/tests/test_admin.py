import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from apps.core.money import Money
from apps.ledger import selectors, services
from apps.ledger.models import Adjustment, Transaction
from apps.ledger.tests.factories import clearing, open_wallet_account

pytestmark = pytest.mark.django_db


def staff(email, *perms):
    user = get_user_model().objects.create_user(email, "pw", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def superuser_client(client, otp_login):
    otp_login(client, get_user_model().objects.create_superuser("root@finstack.test", "pw"))
    return client


@pytest.fixture
def history():
    alice, bob = open_wallet_account(funded=123_450), open_wallet_account()
    txn = services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(1_050, "EUR"),
        idempotency_key="admin-1",
    )
    hold = services.hold_create(
        debit_account_id=alice,
        credit_account_id=clearing(),
        amount=Money(400, "EUR"),
        idempotency_key="admin-h",
    )
    services.verify(store=True)
    return alice, txn.transaction_id, hold.hold_id


@pytest.mark.parametrize(
    "model",
    [
        "account",
        "transaction",
        "entry",
        "hold",
        "checkpoint",
        "verificationreport",
        "adjustment",
        "currency",
    ],
)
def test_every_ledger_changelist_renders(superuser_client, history, model):
    assert superuser_client.get(f"/admin/ledger/{model}/").status_code == 200


def test_balances_are_shown_in_major_units(superuser_client, history):
    page = superuser_client.get("/admin/ledger/account/?q=wallet:test").content.decode()
    assert "1,224.00 EUR" in page  # 1,234.50 - 10.50 posted
    assert "1,220.00 EUR" in page  # minus the 4.00 hold


def test_history_pages_are_read_only(superuser_client, history):
    alice, txn, hold = history
    page = superuser_client.get(f"/admin/ledger/transaction/{txn}/change/")
    assert page.status_code == 200
    assert b"10.50 EUR" in page.content
    assert b'name="_save"' not in page.content
    for url in [
        "/admin/ledger/transaction/add/",
        "/admin/ledger/entry/add/",
        "/admin/ledger/account/add/",
        f"/admin/ledger/transaction/{txn}/delete/",
    ]:
        assert superuser_client.get(url).status_code == 403
    response = superuser_client.post(
        f"/admin/ledger/transaction/{txn}/change/", {"description": "edited"}
    )
    assert response.status_code == 403
    assert Transaction.objects.get(pk=txn).description == ""


def test_maker_checker_through_the_admin(client, otp_login):
    wallet = open_wallet_account()
    maker = staff("maker@finstack.test", "add_adjustment", "view_adjustment", "approve_adjustment")
    checker = staff("checker@finstack.test", "view_adjustment", "approve_adjustment")
    adjustments = selectors.system_account_id(purpose="adjustments", currency="EUR")

    otp_login(client, maker)
    response = client.post(
        "/admin/ledger/adjustment/add/",
        {
            "debit_account": adjustments,
            "credit_account": wallet,
            "amount_major": "12.50",
            "currency": "EUR",
            "reason": "goodwill, ticket 77",
        },
    )
    assert response.status_code == 302
    proposal = Adjustment.objects.get()
    assert (proposal.amount, proposal.status, proposal.proposed_by) == (1250, "proposed", maker)

    response = client.post(
        "/admin/ledger/adjustment/",
        {"action": "approve", "_selected_action": [proposal.pk]},
        follow=True,
    )
    assert "must be approved by someone other" in response.content.decode()
    assert selectors.account_balance(account_id=wallet).posted == Money(0, "EUR")

    otp_login(client, checker)
    response = client.post(
        "/admin/ledger/adjustment/",
        {"action": "approve", "_selected_action": [proposal.pk]},
        follow=True,
    )
    assert "posted." in response.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("posted", checker)
    assert selectors.account_balance(account_id=wallet).posted == Money(1250, "EUR")
    assert selectors.transaction_get(transaction_id=proposal.transaction_id).kind == "adjustment"


def test_inexact_amount_is_refused_by_the_form(client, otp_login):
    maker = staff("maker2@finstack.test", "add_adjustment", "view_adjustment")
    otp_login(client, maker)
    response = client.post(
        "/admin/ledger/adjustment/add/",
        {
            "debit_account": open_wallet_account(),
            "credit_account": open_wallet_account(),
            "amount_major": "1.005",
            "currency": "EUR",
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert "Enter an exact amount" in response.content.decode()
    assert not Adjustment.objects.exists()


def test_reject_and_permission_to_decide(client, otp_login):
    maker = staff("maker3@finstack.test", "add_adjustment", "view_adjustment")
    viewer = staff("viewer@finstack.test", "view_adjustment")
    checker = staff("checker3@finstack.test", "view_adjustment", "approve_adjustment")
    proposal = services.adjustment_propose(
        debit_account_id=selectors.system_account_id(purpose="adjustments", currency="EUR"),
        credit_account_id=open_wallet_account(),
        amount=Money(5, "EUR"),
        reason="x",
        proposed_by_id=maker.pk,
    )

    otp_login(client, viewer)  # may look, may not decide: the action is not offered
    page = client.get("/admin/ledger/adjustment/").content.decode()
    assert 'value="approve"' not in page
    client.post("/admin/ledger/adjustment/", {"action": "approve", "_selected_action": [proposal]})
    assert Adjustment.objects.get(pk=proposal).status == "proposed"

    otp_login(client, checker)
    client.post("/admin/ledger/adjustment/", {"action": "reject", "_selected_action": [proposal]})
    assert Adjustment.objects.get(pk=proposal).status == "rejected"
    assert not Transaction.objects.filter(kind="adjustment").exists()
