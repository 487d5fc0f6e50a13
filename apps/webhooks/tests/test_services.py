"""Endpoints through the public services: the secret is shown once and kept encrypted, bad
input is refused with nothing written, rotation keeps two secrets valid for a while."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.models import OutboxEvent
from apps.webhooks import selectors, services
from apps.webhooks.models import Delivery, Endpoint, EndpointSecret

pytestmark = pytest.mark.django_db
URL = "https://hooks.partner.example/finstack"


def test_create_returns_the_secret_once_and_keeps_it_encrypted(make_endpoint):
    created = make_endpoint(URL, ("payments.payment_succeeded",), description="warehouse")
    assert created.secret.startswith("whsec_")
    assert len(created.secret) >= 6 + 40
    assert created.endpoint.url == URL
    assert created.endpoint.event_types == ("payments.payment_succeeded",)
    assert created.endpoint.status == "enabled"
    info = selectors.endpoint_get(endpoint_id=created.endpoint.id)
    assert not any(created.secret in str(value) for value in vars(info).values())
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_endpointsecret")
        [(raw,)] = cursor.fetchall()
    assert created.secret not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert selectors.secrets_valid(endpoint_id=created.endpoint.id) == [created.secret]


def test_two_endpoints_get_different_secrets(make_endpoint):
    assert make_endpoint(URL).secret != make_endpoint(URL).secret


def test_an_unknown_event_type_is_refused_and_nothing_is_written():
    with pytest.raises(services.UnknownEventType) as refused:
        services.endpoint_create(url=URL, event_types=["wallets.transfer_completed", "nope"])
    assert refused.value.code == "webhook_event_type_unknown"
    assert refused.value.details["unknown"] == ["nope"]
    assert not Endpoint.objects.exists()
    assert not EndpointSecret.objects.exists()


def test_update_changes_what_is_given_and_checks_it(make_endpoint):
    endpoint_id = make_endpoint(URL).endpoint.id
    updated = services.endpoint_update(
        endpoint_id=endpoint_id, event_types=["kyc.approved", "kyc.approved"]
    )
    assert (updated.url, updated.event_types) == (URL, ("kyc.approved",))
    with pytest.raises(services.UnknownEventType):
        services.endpoint_update(endpoint_id=endpoint_id, event_types=["kyc.maybe"])
    assert selectors.endpoint_get(endpoint_id=endpoint_id).event_types == ("kyc.approved",)


def test_an_unknown_endpoint_is_not_found():
    missing = Endpoint(url=URL).pk
    for call in (
        lambda: services.endpoint_disable(endpoint_id=missing),
        lambda: services.endpoint_secret_rotate(endpoint_id=missing),
        lambda: selectors.endpoint_get(endpoint_id=missing),
    ):
        with pytest.raises(services.EndpointNotFound) as refused:
            call()
        assert (refused.value.code, refused.value.http_status) == (
            "webhook_endpoint_not_found",
            404,
        )


def test_rotation_keeps_the_previous_secret_until_its_expiry(make_endpoint, settings):
    created = make_endpoint(URL)
    endpoint_id = created.endpoint.id
    rotated = services.endpoint_secret_rotate(endpoint_id=endpoint_id)
    assert rotated.secret != created.secret
    assert selectors.secrets_valid(endpoint_id=endpoint_id) == [rotated.secret, created.secret]
    day_later = timezone.now() + timedelta(hours=settings.WEBHOOKS_SECRET_ROTATION_HOURS, minutes=1)
    assert selectors.secrets_valid(endpoint_id=endpoint_id, now=day_later) == [rotated.secret]

    short = services.endpoint_secret_rotate(
        endpoint_id=endpoint_id, previous_valid_for=timedelta(hours=1)
    )
    assert selectors.secrets_valid(endpoint_id=endpoint_id) == [
        short.secret,
        rotated.secret,
        created.secret,
    ]
    later = timezone.now() + timedelta(hours=2)  # each rotated-out secret keeps its own expiry
    assert selectors.secrets_valid(endpoint_id=endpoint_id, now=later) == [
        short.secret,
        created.secret,
    ]


def test_a_leaked_secret_stops_at_once(make_endpoint):
    created = make_endpoint(URL)
    rotated = services.endpoint_secret_rotate(endpoint_id=created.endpoint.id)
    leaked = services.endpoint_secret_rotate(
        endpoint_id=created.endpoint.id, previous_valid_for=timedelta(0)
    )
    assert selectors.secrets_valid(endpoint_id=created.endpoint.id) == [leaked.secret]
    assert rotated.secret != leaked.secret


def test_disable_and_enable_publish_events_and_repeat_harmlessly(make_endpoint):
    endpoint_id = make_endpoint(URL).endpoint.id
    disabled = services.endpoint_disable(endpoint_id=endpoint_id, reason="partner asked")
    again = services.endpoint_disable(endpoint_id=endpoint_id, reason="twice")
    assert (disabled.status, disabled.disabled_reason) == ("disabled", "partner asked")
    assert again.disabled_reason == "partner asked"
    assert again.disabled_at == disabled.disabled_at
    enabled = services.endpoint_enable(endpoint_id=endpoint_id)
    services.endpoint_enable(endpoint_id=endpoint_id)
    assert (enabled.status, enabled.disabled_reason, enabled.disabled_at) == ("enabled", "", None)
    types = list(OutboxEvent.objects.order_by("created_at").values_list("type", "payload"))
    assert types == [
        (
            "webhooks.endpoint_disabled",
            {"endpoint_id": str(endpoint_id), "reason": "partner asked", "automatic": False},
        ),
        ("webhooks.endpoint_enabled", {"endpoint_id": str(endpoint_id)}),
    ]


def test_a_test_event_to_a_disabled_endpoint_is_refused(make_endpoint):
    endpoint_id = make_endpoint(URL).endpoint.id
    services.endpoint_disable(endpoint_id=endpoint_id)
    with pytest.raises(services.EndpointDisabled):
        services.endpoint_ping(endpoint_id=endpoint_id)
    assert not Delivery.objects.exists()


def test_lists_and_the_metrics_selectors(make_endpoint):
    first = make_endpoint(URL).endpoint.id
    second = make_endpoint(URL + "/2").endpoint.id
    services.endpoint_disable(endpoint_id=second)
    assert [e.pk for e in selectors.endpoint_list()] == [second, first]
    assert [e.pk for e in selectors.endpoint_list(status="enabled")] == [first]
    assert selectors.endpoints_disabled() == 1
    assert selectors.deliveries_given_up() == 0
    assert list(selectors.delivery_list(endpoint_id=first)) == []


def test_metrics_show_disabled_endpoints(client, make_endpoint):
    services.endpoint_disable(endpoint_id=make_endpoint(URL).endpoint.id)
    text = client.get("/metrics").content.decode()
    assert "finstack_webhook_endpoints_disabled 1.0" in text
    assert "finstack_webhook_deliveries_given_up 0.0" in text
