"""The customer actions that move or stop money, raced on the real PostgreSQL: a money
request paid from several devices at once, paid while its requester cancels it, and a wallet
closed while money is sent to it."""

import pytest

from apps.core.money import Money
from apps.core.testing import run_threads
from apps.wallets import services
from apps.wallets.models import MoneyRequest, Transfer, Wallet
from apps.wallets.tests.conftest import balance_of
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def request_between(funded=10_000, amount=2_500):
    requester, payer = make_user("ann@example.com"), make_user("bob@example.com")
    wanted, paying = make_wallet(requester), make_wallet(payer, funded=funded)
    request = services.money_request_create(
        requester_id=requester.pk, contact=payer.email, amount=Money(amount, "EUR")
    )
    return request["id"], requester, payer, wanted, paying


def test_a_request_accepted_from_eight_devices_at_once_is_paid_once():
    request_id, _, payer, wanted, paying = request_between()

    results, failures = run_threads(
        8, lambda _: services.money_request_accept(request_id=request_id, payer_id=payer.pk)
    )

    assert failures == []
    assert {r["state"] for r in results} == {"accepted"}
    assert Transfer.objects.count() == 1
    assert {r["transfer_id"] for r in results} == {Transfer.objects.get().pk}
    assert (balance_of(paying), balance_of(wanted)) == (7_500, 2_500)


def test_a_request_accepted_while_its_requester_cancels_ends_one_way_only():
    request_id, requester, payer, wanted, paying = request_between()

    def act(n):
        if n == 0:
            return services.money_request_cancel(request_id=request_id, requester_id=requester.pk)
        return services.money_request_accept(request_id=request_id, payer_id=payer.pk)

    results, failures = run_threads(2, act)

    state = MoneyRequest.objects.get(pk=request_id).state
    assert len(failures) == 1
    assert type(failures[0]).__name__ == "MoneyRequestNotPending"
    if state == "accepted":
        assert (balance_of(paying), balance_of(wanted), Transfer.objects.count()) == (
            7_500,
            2_500,
            1,
        )
    else:
        assert state == "cancelled"
        assert (balance_of(paying), balance_of(wanted), Transfer.objects.count()) == (10_000, 0, 0)


def test_a_wallet_closed_while_money_is_sent_to_it_never_holds_money_closed():
    for round_ in range(10):
        owner = make_user(f"owner-{round_}@example.com")
        closing = make_wallet(owner)
        sender = make_wallet(funded=1_000)

        def act(n, closing=closing, sender=sender, round_=round_):
            if n == 0:
                return services.wallet_close(wallet_id=closing.pk, user_id=closing.owner_id)
            return services.transfer_create(
                source_wallet_id=sender.pk,
                destination=str(closing.pk),
                amount=Money(300, "EUR"),
                requested_by_id=sender.owner_id,
                idempotency_key=f"race-{round_}",
            )

        results, failures = run_threads(2, act)

        assert len(failures) == 1  # one of the two is refused, whichever came second
        status = Wallet.objects.get(pk=closing.pk).status
        if status == "closed":
            assert type(failures[0]).__name__ == "WalletClosed"
            assert (balance_of(closing), balance_of(sender)) == (0, 1_000)
        else:
            assert type(failures[0]).__name__ == "WalletNotEmpty"
            assert (balance_of(closing), balance_of(sender)) == (300, 700)
