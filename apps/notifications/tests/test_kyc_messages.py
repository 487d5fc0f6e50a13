"""KYC events that reach people: a confirmed watch-list match alerts compliance only (the
customer must not learn of the list), and a withdrawn case is confirmed to the customer."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import TestCase

from apps.accounts import services as accounts_services
from apps.core.events import publish
from apps.kyc import services as kyc_services
from apps.kyc.events import ScreeningMatchConfirmed
from apps.kyc.tests.factories import draft_case
from apps.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def run(fn, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def person(email, role=None):
    if role:
        user_id = accounts_services.staff_user_create(email=email, role=role, password="pw")
    else:
        user_id = run(accounts_services.user_create, email=email, password="pw")
    return get_user_model().objects.get(pk=user_id)


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_a_confirmed_match_alerts_compliance_and_never_names_the_list_to_the_customer():
    karla = person("karla@example.com")
    compliance = person("cora@finstack.test", "compliance")
    operations = person("otto@finstack.test", "operations")
    before = kinds(karla)

    def confirm():
        with transaction.atomic():
            publish(ScreeningMatchConfirmed(user_id=karla.pk, hit_id=7, list_name="EU sanctions"))

    run(confirm)

    assert kinds(compliance) == ["kyc_screening_match"]
    (alert,) = [m for m in mail.outbox if compliance.email in m.to]
    assert f"customer {karla.pk}" in alert.subject
    assert "EU sanctions" in alert.body
    assert kinds(operations) == []
    assert kinds(karla) == before
    assert not Delivery.objects.filter(user=karla, kind="kyc_screening_match").exists()
    assert not [m for m in mail.outbox if karla.email in m.to and "sanctions" in m.body]


def test_a_withdrawn_case_is_confirmed_to_the_customer():
    karla = person("karla@example.com")
    case_id = draft_case(karla.pk)

    run(kyc_services.case_withdraw, user_id=karla.pk, case_id=case_id)

    assert "kyc_withdrawn" in kinds(karla)
    message = Notification.objects.get(user=karla, kind="kyc_withdrawn")
    assert message.title == "Your verification request is withdrawn"
