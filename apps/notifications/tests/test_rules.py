"""Each event turns into the right messages on the right channels."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.kyc.tests.factories import set_limits
from apps.notifications import services
from apps.notifications.channels.basic import Memory
from apps.notifications.models import Delivery, Notification
from apps.wallets import services as wallet_services
from apps.wallets.tests.factories import make_wallet

pytestmark = pytest.mark.django_db


def run(fn, *args, **kwargs):
    """Commit-time work (event handlers, deliveries) runs as after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def sent(user, kind):
    return sorted(Delivery.objects.filter(user=user, kind=kind).values_list("channel", "status"))


def inbox(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def customer(email, **fields):
    user_id = run(accounts_services.user_create, email=email, password="pw", **fields)
    return get_user_model().objects.get(pk=user_id)


def test_sign_up_sends_a_welcome_by_email_and_in_app():
    ann = customer("ann@example.com")
    assert sent(ann, "welcome") == [("email", "sent")]
    assert inbox(ann) == ["welcome"]
    welcome = [m for m in mail.outbox if m.to == ["ann@example.com"]][-1]
    assert welcome.subject == "Welcome to Finstack, ann"
    assert "first wallet is open" in welcome.body
    assert "first wallet is open" in welcome.alternatives[0][0]  # the HTML part


def test_a_transfer_tells_both_parties_and_a_large_one_alerts_the_sender(settings):
    settings.NOTIFICATIONS_LARGE_AMOUNT = {"EUR": 50_000}
    set_limits(0, per_transaction=10**9, daily=10**9, monthly=10**9, max_balance=10**9)
    source = make_wallet(funded=100_000)
    target = make_wallet()
    type(source.owner).objects.filter(pk=source.owner_id).update(
        phone="+4915112345678", phone_verified=True
    )
    run(services.device_register, user_id=target.owner_id, platform="ios", token="tok-bob")
    run(
        wallet_services.transfer_create,
        requested_by_id=source.owner_id,
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=Money(60_000, "EUR"),
        idempotency_key="t-1",
        note="rent",
    )
    assert sent(target.owner, "money_received") == [("email", "sent"), ("push", "sent")]
    assert sent(source.owner, "transfer_sent") == []  # no push device: in-app only
    assert sent(source.owner, "large_transaction") == [("email", "sent"), ("sms", "sent")]
    assert inbox(target.owner) == ["money_received"]
    assert inbox(source.owner) == ["transfer_sent"]
    push = next(m for m in Memory.outbox if m.to == ("tok-bob",))
    assert push.subject == "You received 600.00 EUR"
    sms = next(m for m in Memory.outbox if m.to == ("+4915112345678",))
    assert sms.body.startswith("Finstack alert: 600.00 EUR sent to")


def test_security_messages_ignore_preferences():
    ann = customer("ann@example.com")
    # Even if stored (say, before a rule changed), an opt-out does not stop security mail.
    from apps.notifications.models import Preference

    Preference.objects.create(user=ann, category="security", channel="email", enabled=False)
    from django.db import transaction

    from apps.accounts.events import NewDeviceLogin
    from apps.core.events import publish

    def login_elsewhere():
        with transaction.atomic():
            publish(NewDeviceLogin(user_id=ann.pk, device="Pixel 11", ip="203.0.113.9"))

    run(login_elsewhere)
    assert sent(ann, "new_device_login") == [("email", "sent")]


def test_a_switched_off_channel_is_respected_for_optional_messages():
    ann = customer("ann@example.com")
    run(
        services.preferences_set,
        user_id=ann.pk,
        choices=[{"category": "kyc", "channel": "email", "enabled": False}],
    )
    run(kyc_services.customer_tier_set, user_id=ann.pk, level=1)
    assert sent(ann, "kyc_tier_changed") == []  # e-mail off, no push device
    assert "kyc_tier_changed" in inbox(ann)


def test_a_frozen_wallet_is_told_without_the_staff_reason():
    wallet = make_wallet()
    run(
        wallet_services.wallet_set_status,
        wallet_id=wallet.pk,
        status="frozen",
        reason="AML case 77",
        changed_by_id=None,
    )
    assert sent(wallet.owner, "wallet_frozen") == [("email", "sent")]
    message = [m for m in mail.outbox if m.to == [wallet.owner.email]][-1]
    assert "AML" not in message.body


def test_messages_are_in_the_users_language():
    hans = customer("hans@example.com", language="de")
    message = [m for m in mail.outbox if m.to == ["hans@example.com"]][-1]
    assert message.subject == "Willkommen bei Finstack, hans"
    assert Notification.objects.get(user=hans).title == "Willkommen bei Finstack, hans"
    # A kind without a German text falls back to English.
    from apps.notifications.rendering import render

    assert render("transfer_sent", "de", {"amount": "1.00 EUR", "recipient": "x"}).title == (
        "You sent 1.00 EUR"
    )


def test_one_event_handled_twice_gives_one_message_per_channel():
    ann = customer("ann@example.com")
    for _ in range(2):
        run(
            services.notify,
            user_id=ann.pk,
            kind="password_changed",
            context={"how": "change"},
            event_id="6f1c7c2e-4d0b-4d39-9a53-0a3f3f4f9a11",
        )
    assert sent(ann, "password_changed") == [("email", "sent")]
    assert inbox(ann).count("password_changed") == 1
    assert len([m for m in mail.outbox if "password" in m.subject.lower()]) == 1


def test_payments_tell_the_customer_how_they_ended():
    from apps.payments import services as payment_services
    from apps.payments.tests.factories import bank_account, bank_answers, committed, customer

    user, wallet = customer(funds=50_000)
    for suffix, key in (("0001", "ok"), ("0002", "ko")):
        payment_id = committed(
            payment_services.withdrawal_create,
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=bank_account(user, suffix).pk,
            amount=Money(1_000, "EUR"),
            client_key=key,
        )
        bank_answers(payment_id)
    assert sent(user, "withdrawal_succeeded") == [("email", "sent")]
    assert sent(user, "withdrawal_failed") == [("email", "sent")]
    subjects = [m.subject for m in mail.outbox if m.to == [user.email]]
    assert "10.00 EUR sent to your bank" in subjects
    assert "Your withdrawal of 10.00 EUR did not go through" in subjects
