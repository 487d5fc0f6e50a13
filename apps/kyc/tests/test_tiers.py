import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.kyc import selectors, services
from apps.kyc.tests.factories import set_limits

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("kyc@finstack.test", "pw")


def test_a_new_customer_is_on_tier_0_with_its_limits(user):
    limits = selectors.limits_for(user_id=user.pk, currency="EUR")
    assert limits == selectors.Limits(
        tier=0,
        per_transaction=Money(10_000, "EUR"),
        daily=Money(25_000, "EUR"),
        monthly=Money(100_000, "EUR"),
        max_balance=Money(150_000, "EUR"),
    )


def test_limits_are_data_and_follow_the_tier(user):
    set_limits(2, "EUR", daily=7_777_00)
    services.customer_tier_set(user_id=user.pk, level=2)
    limits = selectors.limits_for(user_id=user.pk, currency="EUR")
    assert (limits.tier, limits.daily) == (2, Money(7_777_00, "EUR"))


def test_a_currency_without_limits_falls_back_to_settings(user, settings):
    settings.KYC_DEFAULT_LIMITS = {
        "default": {"per_transaction": 1, "daily": 2, "monthly": 3, "max_balance": 4}
    }
    limits = selectors.limits_for(user_id=user.pk, currency="JPY")
    assert (limits.per_transaction, limits.max_balance) == (Money(1, "JPY"), Money(4, "JPY"))


def test_tier_change_is_announced_once(user):
    services.customer_tier_set(user_id=user.pk, level=1)
    services.customer_tier_set(user_id=user.pk, level=1)  # no change, no event
    events = OutboxEvent.objects.filter(type="kyc.tier_changed")
    assert [e.payload for e in events] == [{"user_id": user.pk, "from_level": 0, "to_level": 1}]
    assert selectors.tier_of(user_id=user.pk) == 1


def test_tier_admin_edits_limits(client, user, otp_login):
    admin = get_user_model().objects.create_superuser("root@finstack.test", "pw")
    otp_login(client, admin)
    page = client.get("/admin/kyc/tier/2/change/")
    assert page.status_code == 200
    assert "1000000" in page.content.decode()  # the limits inline, in minor units
    services.customer_tier_set(user_id=user.pk, level=2)
    assert client.get("/admin/kyc/customertier/").status_code == 200
    assert client.get("/admin/kyc/customertier/add/").status_code == 403


def test_two_users_limits_come_in_one_statement_planned_once_per_connection(user):
    other = get_user_model().objects.create_user("other@finstack.test", "a long enough password")
    services.customer_tier_set(user_id=other.pk, level=2)
    for _ in range(12):  # psycopg prepares after 5 runs, PostgreSQL goes generic after 5 more
        limits = selectors.limits_for_users(user_ids=[user.pk, other.pk], currency="EUR")
    assert set(limits) == {user.pk, other.pk}
    assert limits[other.pk].daily > limits[user.pk].daily  # tier 2 against tier 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM (VALUES ($1::bigint), ($2::bigint)) AS u(id)%"],
        )
        prepared = cursor.fetchone()
    assert prepared is not None, "not a prepared statement (settings: DB_PREPARED_STATEMENTS)"
    # A plan PostgreSQL redoes on every run (an `unnest` of an array did) shows as 0.
    assert prepared[0] > 0


def test_limits_are_read_for_one_or_two_users_only():
    with pytest.raises(ValueError, match="one or two users"):
        selectors.limits_for_users(user_ids=[1, 2, 3], currency="EUR")
