"""P2P transfers pass the same risk rules (settings.PAYMENTS_RISK) as payments: deny refuses,
review holds the money until staff, never a party to the transfer, decide."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.kyc.tests.factories import set_limits
from apps.ledger import selectors as ledger_selectors
from apps.wallets import services
from apps.wallets.models import SpendingGate, Transfer, TransferReview
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db
URL = "/api/v1/transfers"
BIG = 10**12


@pytest.fixture
def thresholds(settings):
    set_limits(per_transaction=BIG, daily=BIG, monthly=BIG, max_balance=BIG)
    settings.PAYMENTS_RISK = {
        **settings.PAYMENTS_RISK,
        "amount": {"default": {"review": 1_000, "deny": 2_000, "review_per_day": BIG}},
    }


def send(client, source, target, amount, key="k-1"):
    return client.post(
        URL,
        {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": amount,
            "currency": "EUR",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def _rows(sql):
    with connection.cursor() as cursor:  # the ledger's tables, read as the database has them
        cursor.execute(sql)
        return cursor.fetchall()


def money(*wallets):
    """Balances (posted, available), entries, holds, transfers, reviews and wallet events."""
    return (
        [
            (b.posted.amount, b.available.amount)
            for b in (
                ledger_selectors.account_balance(account_id=w.ledger_account_id) for w in wallets
            )
        ],
        _rows("SELECT count(*) FROM ledger_entry")[0][0],
        [status for (status,) in _rows("SELECT status FROM ledger_hold ORDER BY id")],
        Transfer.objects.count(),
        list(TransferReview.objects.values_list("state", flat=True)),
        # Sorted by name: rows written in SQL carry the database transaction's start time,
        # rows written from Python the process's clock, so close together they may sort
        # either way by created_at.
        sorted(
            OutboxEvent.objects.filter(type__startswith="wallets.transfer").values_list(
                "type", flat=True
            )
        ),
    )


def staff():
    return get_user_model().objects.create_user("staff@finstack.test", "pw", is_staff=True)


def test_transfer_over_deny_threshold_is_refused_and_moves_nothing(auth_client, thresholds):
    source, target = make_wallet(funded=1_000_000), make_wallet()
    before = money(source, target)
    gate = list(SpendingGate.objects.values_list("day_total", flat=True))

    response = send(auth_client(source.owner), source, target, 900_000)

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "risk_denied",
            "message": "This transfer cannot be made. Contact support if you think this is wrong.",
            "details": {"reasons": ["amount_over_deny_threshold"]},
        }
    }
    assert money(source, target) == before
    assert list(SpendingGate.objects.values_list("day_total", flat=True)) in (gate, [0])
    assert not IdempotencyRecord.objects.filter(response_status=201).exists()


def test_transfer_under_review_threshold_passes_as_before(auth_client, thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()
    response = send(auth_client(source.owner), source, target, 999)
    assert (response.status_code, response.json()["status"]) == (201, "completed")
    assert money(source, target)[0] == [(4_001, 4_001), (999, 999)]


def test_transfer_over_review_threshold_holds_the_money(auth_client, thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()

    response = send(auth_client(source.owner), source, target, 1_500)

    assert response.status_code == 202
    body = response.json()
    review = TransferReview.objects.get()
    assert (body["id"], body["status"], body["amount"]) == (str(review.pk), "review", 1_500)
    balances, _, holds, transfers, reviews, events = money(source, target)
    assert balances == [(5_000, 3_500), (0, 0)]  # available drops, posted and payee unchanged
    assert (holds, transfers, reviews) == (["pending"], 0, ["pending"])
    assert events == ["wallets.transfer_in_review"]
    assert review.reasons == ["amount_over_review_threshold"]


def test_retry_of_a_held_transfer_holds_once(auth_client, thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()
    services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=_eur(1_500),
        requested_by_id=source.owner_id,
        idempotency_key="k",
    )
    again = services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=_eur(1_500),
        requested_by_id=source.owner_id,
        idempotency_key="k",
    )
    assert again.status == "review"
    assert money(source, target)[0] == [(5_000, 3_500), (0, 0)]
    assert TransferReview.objects.count() == 1


def _eur(amount):
    from apps.core.money import Money

    return Money(amount, "EUR")


def _held(source, target, amount=1_500):
    services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=_eur(amount),
        requested_by_id=source.owner_id,
        idempotency_key="k",
    )
    return TransferReview.objects.get()


def test_approve_posts_the_held_money_once(thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()
    review, decider = _held(source, target), staff()

    state = services.transfer_review_decide(review_id=review.pk, staff_id=decider.pk, approve=True)

    assert state == "approved"
    balances, _, holds, transfers, reviews, events = money(source, target)
    assert balances == [(3_500, 3_500), (1_500, 1_500)]
    assert (holds, transfers, reviews) == (["voided"], 1, ["approved"])
    assert events == [
        "wallets.transfer_completed",
        "wallets.transfer_in_review",
        "wallets.transfer_review_approved",
    ]
    after = money(source, target)
    with pytest.raises(services.ReviewAlreadyDecided):
        services.transfer_review_decide(review_id=review.pk, staff_id=decider.pk, approve=True)
    with pytest.raises(services.ReviewAlreadyDecided):
        services.transfer_review_decide(review_id=review.pk, staff_id=decider.pk, approve=False)
    assert money(source, target) == after


def test_decline_releases_the_held_money(thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()
    review = _held(source, target)
    assert SpendingGate.objects.get(user_id=source.owner_id).day_total == 1_500

    state = services.transfer_review_decide(review_id=review.pk, staff_id=staff().pk, approve=False)

    assert state == "declined"
    balances, _, holds, transfers, reviews, events = money(source, target)
    assert balances == [(5_000, 5_000), (0, 0)]
    assert (holds, transfers, reviews) == (["voided"], 0, ["declined"])
    assert events == ["wallets.transfer_in_review", "wallets.transfer_review_declined"]
    assert SpendingGate.objects.get(user_id=source.owner_id).day_total == 0


@pytest.mark.parametrize("party", ["payer", "payee"])
def test_a_party_to_the_transfer_cannot_decide_it(thresholds, party):
    source, target = make_wallet(funded=5_000), make_wallet()
    review = _held(source, target)
    decider = source.owner if party == "payer" else target.owner
    get_user_model().objects.filter(pk=decider.pk).update(is_staff=True, is_superuser=True)
    before = money(source, target)

    for approve in (True, False):
        with pytest.raises(services.DeciderIsParty) as refused:
            services.transfer_review_decide(
                review_id=review.pk, staff_id=decider.pk, approve=approve
            )
        assert (refused.value.code, refused.value.http_status) == ("decider_is_party", 403)

    assert money(source, target) == before
    review.refresh_from_db()
    assert (review.state, review.decided_by_id) == ("pending", None)


def test_admin_approves_a_held_transfer(client, otp_login, thresholds):
    source, target = make_wallet(funded=5_000), make_wallet()
    review = _held(source, target)
    otp_login(client, get_user_model().objects.create_superuser("root@finstack.test", "pw"))
    page = client.get("/admin/wallets/transferreview/")
    assert b"Approve: post the held transfer" in page.content
    client.post(
        "/admin/wallets/transferreview/", {"action": "approve", "_selected_action": [review.pk]}
    )
    client.post(
        "/admin/wallets/transferreview/", {"action": "approve", "_selected_action": [review.pk]}
    )
    review.refresh_from_db()
    assert review.state == "approved"
    assert money(source, target)[0] == [(3_500, 3_500), (1_500, 1_500)]
    assert Transfer.objects.count() == 1


def test_admin_refuses_a_staff_member_deciding_their_own_transfer(client, otp_login, thresholds):
    payer = get_user_model().objects.create_superuser("root@finstack.test", "pw")
    source, target = make_wallet(payer, funded=5_000), make_wallet(make_user())
    review = _held(source, target)
    before = money(source, target)
    otp_login(client, payer)
    client.post(
        "/admin/wallets/transferreview/", {"action": "approve", "_selected_action": [review.pk]}
    )
    assert money(source, target) == before
    review.refresh_from_db()
    assert review.state == "pending"
