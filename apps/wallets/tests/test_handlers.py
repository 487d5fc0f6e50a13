import pytest
from django.db import transaction

from apps.accounts import services as accounts_services
from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.wallets.models import Wallet

pytestmark = pytest.mark.django_db


def test_sign_up_opens_one_default_wallet_even_if_the_event_arrives_twice(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user_id = accounts_services.user_create(
            email="new@finstack.test", password="pw", default_currency="GBP"
        )
    wallet = Wallet.objects.get(owner_id=user_id)
    assert (wallet.currency, wallet.is_default, wallet.status) == ("GBP", True, "active")
    event = OutboxEvent.objects.get(type="accounts.user_created")
    outbox.dispatch(event.pk, event.type)  # delivered again
    assert Wallet.objects.filter(owner_id=user_id).count() == 1
