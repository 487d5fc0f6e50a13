"""SSRF guards: with production's settings, plain http and private or loopback addresses
are refused when an endpoint is saved, and a name resolving to one is refused at send."""

import socket

import pytest
from django.test import TestCase

from apps.webhooks import services
from apps.webhooks.models import Attempt, Delivery, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_rules(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.partner.example/x", "scheme"),
        ("ftp://hooks.partner.example/x", "scheme"),
        ("https://127.0.0.1/x", "private_address"),
        ("https://localhost:8443/x", "private_address"),
        ("https://api.localhost/x", "private_address"),
        ("https://10.1.2.3/x", "private_address"),
        ("https://192.168.0.10/x", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "private_address"),
        ("https://[::1]/x", "private_address"),
        ("https://[::ffff:127.0.0.1]/x", "private_address"),
        ("https://0.0.0.0/x", "private_address"),
        ("https://user:pw@hooks.partner.example/x", "credentials"),
    ],
)
def test_unsafe_urls_are_refused_and_nothing_is_written(production_rules, url, reason):
    with pytest.raises(services.UrlRefused) as refused:
        services.endpoint_create(url=url)
    assert refused.value.code == "webhook_url_refused"
    assert refused.value.http_status == 422
    assert refused.value.details == {"reason": reason, "url": url}
    assert not Endpoint.objects.exists()


def test_a_public_https_url_is_accepted(production_rules):
    created = services.endpoint_create(url="https://93.184.215.14/hooks")
    assert created.endpoint.url == "https://93.184.215.14/hooks"


def test_an_update_to_an_unsafe_url_is_refused(production_rules):
    endpoint_id = services.endpoint_create(url="https://hooks.partner.example/x").endpoint.id
    with pytest.raises(services.UrlRefused):
        services.endpoint_update(endpoint_id=endpoint_id, url="https://10.0.0.1/x")
    assert Endpoint.objects.get().url == "https://hooks.partner.example/x"


@pytest.fixture
def dns(monkeypatch):
    """The outside world's DNS: names of the test resolve to the addresses given."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_that_resolves_to_a_private_address_is_refused_at_send(production_rules, dns):
    dns["hooks.partner.example"] = "10.0.0.7"  # accepted when saved: no DNS lookup then
    created = services.endpoint_create(url="https://hooks.partner.example/x")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.endpoint_ping(endpoint_id=created.endpoint.id)
    delivery = Delivery.objects.get()
    assert delivery.status == "given_up"
    assert Attempt.objects.get().error == ("refused: The URL's host resolves to a private address.")
