"""Operations in the back office: endpoints and deliveries render, a secret is shown once (on
creation or rotation), and disable, enable, test event and replay go through the services."""

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase

from apps.accounts import services as accounts_services
from apps.core import signing
from apps.webhooks import selectors, services
from apps.webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/webhooks/endpoint/"


def staff(email, role):
    return get_user_model().objects.get(
        pk=accounts_services.staff_user_create(email=email, role=role, password="pw")
    )


@pytest.fixture
def ops(client, otp_login):
    otp_login(client, staff("ops@finstack.test", "operations"))
    return client


def act(client, url, action, pks):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]})


def test_pages_render_with_the_endpoints_deliveries_and_attempts(ops, receiver, make_endpoint):
    endpoint_id = make_endpoint(receiver.url).endpoint.id
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.endpoint_ping(endpoint_id=endpoint_id)
    delivery = Delivery.objects.get()
    assert ops.get(CHANGELIST).status_code == 200
    page = ops.get(f"{CHANGELIST}{endpoint_id}/change/")
    assert page.status_code == 200
    assert b"webhooks.ping" in page.content  # its recent deliveries
    assert b"payments.payment_succeeded: A deposit or withdrawal completed." in page.content
    assert b"whsec_" not in page.content
    detail = ops.get(f"/admin/webhooks/delivery/{delivery.pk}/change/")
    assert detail.status_code == 200
    assert b"{&quot;received&quot;: true}" in detail.content  # the attempt's response
    assert ops.get("/admin/webhooks/delivery/").status_code == 200


def test_creating_an_endpoint_shows_its_secret_once(ops, receiver):
    response = ops.post(
        f"{CHANGELIST}add/",
        {
            "url": receiver.url,
            "description": "warehouse",
            "event_types": ["wallets.transfer_completed", "kyc.approved"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = Endpoint.objects.get()
    assert (endpoint.description, endpoint.event_types) == (
        "warehouse",
        ["wallets.transfer_completed", "kyc.approved"],
    )
    assert endpoint.created_by.email == "ops@finstack.test"
    [secret] = selectors.secrets_valid(endpoint_id=endpoint.pk)
    assert secret.encode() in response.content
    assert secret.encode() not in ops.get(f"{CHANGELIST}{endpoint.pk}/change/").content
    assert secret.encode() not in ops.get(CHANGELIST).content


def test_editing_an_endpoint_goes_through_the_service(ops, receiver, make_endpoint):
    created = make_endpoint(receiver.url)
    response = ops.post(
        f"{CHANGELIST}{created.endpoint.id}/change/",
        {"url": receiver.url + "/v2", "description": "v2", "event_types": ["kyc.rejected"]},
    )
    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert (endpoint.url, endpoint.description, endpoint.event_types) == (
        receiver.url + "/v2",
        "v2",
        ["kyc.rejected"],
    )
    assert selectors.secrets_valid(endpoint_id=endpoint.pk) == [created.secret]


def test_an_unsafe_url_is_refused_by_the_form(ops, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = ops.post(f"{CHANGELIST}add/", {"url": "http://hooks.partner.example/x"})
    assert response.status_code == 200
    assert b"Webhook URLs must use https." in response.content
    assert not Endpoint.objects.exists()


def test_disable_enable_and_rotate(ops, receiver, make_endpoint):
    created = make_endpoint(receiver.url)
    endpoint_id = created.endpoint.id
    act(ops, CHANGELIST, "disable_endpoints", [endpoint_id])
    endpoint = Endpoint.objects.get()
    assert (endpoint.status, endpoint.disabled_reason) == (
        "disabled",
        "disabled by ops@finstack.test",
    )
    act(ops, CHANGELIST, "enable_endpoints", [endpoint_id])
    assert Endpoint.objects.get().status == "enabled"

    page = act(ops, CHANGELIST, "rotate_secret", [endpoint_id])
    assert page.status_code == 200
    new, old = selectors.secrets_valid(endpoint_id=endpoint_id)
    assert old == created.secret
    assert new.encode() in page.content
    assert old.encode() not in page.content


def test_a_test_event_and_a_replay_from_the_admin_reach_the_receiver(ops, receiver, make_endpoint):
    created = make_endpoint(receiver.url)
    act(ops, CHANGELIST, "send_test_event", [created.endpoint.id])
    assert receiver.wait_for(1)
    ping = Delivery.objects.get()
    act(ops, "/admin/webhooks/delivery/", "replay", [ping.pk])
    assert receiver.wait_for(2)
    first, again = receiver.received
    assert first.json() == again.json()
    signing.verify(again.body, again.headers["Finstack-Signature"], created.secret)
    assert Delivery.objects.get(replay_of=ping).status == "succeeded"


def test_support_may_not_see_or_change_endpoints(client, otp_login, make_endpoint, receiver):
    endpoint_id = make_endpoint(receiver.url).endpoint.id
    otp_login(client, staff("help@finstack.test", "support"))
    assert client.get(CHANGELIST).status_code == 403
    act(client, CHANGELIST, "disable_endpoints", [endpoint_id])
    assert Endpoint.objects.get().status == "enabled"
