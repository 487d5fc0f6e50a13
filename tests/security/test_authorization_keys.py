"""Authorization of API keys, over every /api/v1/ route the URL resolver knows.

- A key, even holding every scope, gets 403 `permission_denied` from every route that does not
  take keys (all customer and staff routes): no customer data without a scope for it.
- A route that takes keys answers 401 without credentials, 403 `api_key_required` to a
  customer's or staff member's login, 403 `scope_missing` to a key without its scope.
- Another namespace's ledger objects and webhook endpoints answer exactly as objects that do
  not exist.
- Revoked, expired and forged keys are refused with 401.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from apps.accounts import services as accounts_services
from apps.accounts.models import ApiKey
from apps.core.machine import SCOPES
from apps.wallets.tests.factories import make_user, make_wallet
from apps.webhooks.models import Delivery, EndpointSecret
from tests.security.test_authorization_matrix import METHODS, url_patterns

pytestmark = pytest.mark.django_db


def _key(scopes: list[str], namespace: str = "partner", **terms: Any) -> str:
    return accounts_services.api_key_create(
        name="matrix", namespace=namespace, scopes=scopes, created_by_id=None, **terms
    ).key


def _client(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _routes() -> list[tuple[str, str, str, Any]]:
    """(name, url with made-up parameters, method, view class) for each /api/v1/ route."""
    found = []
    for pattern, entry in url_patterns(get_resolver().url_patterns):
        if not pattern.startswith("api/v1/"):
            continue
        view = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
        if view is None:
            continue
        kwargs = {
            name: (uuid.uuid4() if type(conv).__name__ == "UUIDConverter" else 1)
            if type(conv).__name__ != "StringConverter"
            else "simulated"
            for name, conv in entry.pattern.converters.items()
        }
        url = reverse(entry.name, kwargs=kwargs) if entry.name else "/" + pattern
        found.extend((entry.name, url, m, view) for m in METHODS if hasattr(view, m))
    return found


ROUTES = _routes()
KEY_ROUTES = [r for r in ROUTES if getattr(r[3], "required_scopes", None)]
OTHER_ROUTES = [r for r in ROUTES if not getattr(r[3], "required_scopes", None)]


def _public(view: Any) -> bool:
    return all(p is AllowAny for p in getattr(view, "permission_classes", ()))


def test_the_matrix_sees_the_key_routes() -> None:
    names = {name for name, *_ in KEY_ROUTES}
    assert {"ledger-accounts", "ledger-transactions", "ledger-holds", "ledger-hold-void"} <= names
    assert len(OTHER_ROUTES) > 40  # every customer and staff route is below


@pytest.mark.parametrize(
    ("name", "url", "method", "view"),
    [r for r in OTHER_ROUTES if not _public(r[3])],
    ids=[f"{r[0]}-{r[2]}" for r in OTHER_ROUTES if not _public(r[3])],
)
def test_a_key_with_every_scope_reaches_no_customer_route(name, url, method, view) -> None:
    owner = make_user()
    make_wallet(owner, funded=1_000)
    client = _client(_key(list(SCOPES)))

    response = getattr(client, method)(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 403, (url, response.content)
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("name", "url", "method", "view"), KEY_ROUTES, ids=[f"{r[0]}-{r[2]}" for r in KEY_ROUTES]
)
def test_a_key_route_needs_a_key_with_its_scope(name, url, method, view) -> None:
    needed = view.required_scopes[method.upper()]
    others = [s for s in SCOPES if s != needed]
    user = APIClient()
    user.force_authenticate(user=make_user())

    anonymous = getattr(_client(), method)(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    customer = getattr(user, method)(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    unscoped = getattr(_client(_key(others)), method)(
        url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    scoped = getattr(_client(_key([needed])), method)(
        url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "not_authenticated")
    assert (customer.status_code, customer.json()["error"]["code"]) == (403, "api_key_required")
    assert (unscoped.status_code, unscoped.json()["error"]["code"]) == (403, "scope_missing")
    assert scoped.status_code not in (401, 403), scoped.content


def _ledger_objects(client: APIClient) -> dict[str, dict[str, Any]]:
    """One of each ledger object, made by `client`'s namespace, by route name."""

    def opened(code: str, kind: str) -> str:
        body = {"code": code, "name": code, "type": kind, "currency": "EUR"}
        return client.post("/api/v1/ledger/accounts", body, format="json").json()["id"]

    funding, card = opened("funding", "asset"), opened("card", "liability")
    entries = [
        {"account": funding, "direction": "D", "amount": 500, "currency": "EUR"},
        {"account": card, "direction": "C", "amount": 500, "currency": "EUR"},
    ]
    txn = client.post(
        "/api/v1/ledger/transactions",
        {"reference": "t-1", "entries": entries},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t-1",
    ).json()["id"]
    hold = client.post(
        "/api/v1/ledger/holds",
        {
            "reference": "h-1",
            "debit_account": card,
            "credit_account": funding,
            "amount": 100,
            "currency": "EUR",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="h-1",
    ).json()["id"]
    endpoint = client.post(
        "/api/v1/webhook-endpoints", {"url": "https://hooks.example.com/in"}, format="json"
    ).json()["id"]
    delivery = Delivery.objects.create(
        endpoint_id=endpoint,
        event_id=uuid.uuid4(),
        event_type="ledger.transaction_posted",
        event_created_at=timezone.now(),
        payload={},
        next_attempt_at=timezone.now(),
    )
    return {
        "webhook-endpoint": {"endpoint_id": endpoint},
        "webhook-endpoint-rotate": {"endpoint_id": endpoint},
        "webhook-endpoint-deliveries": {"endpoint_id": endpoint},
        "webhook-delivery-replay": {"delivery_id": delivery.pk},
        "ledger-account": {"account_id": card},
        "ledger-account-entries": {"account_id": card},
        "ledger-transaction": {"transaction_id": txn},
        "ledger-transaction-reverse": {"transaction_id": txn},
        "ledger-hold": {"hold_id": hold},
        "ledger-hold-post": {"hold_id": hold},
        "ledger-hold-void": {"hold_id": hold},
    }


def _without(body: dict[str, Any], ids: set[str]) -> str:
    text = json.dumps(body, sort_keys=True)
    for value in ids:
        text = text.replace(value, "<id>")
    return text


BODIES = {
    "webhook-endpoint-rotate": {},
    "webhook-delivery-replay": {},
    "ledger-transaction-reverse": {"reference": "r-1", "reason": "intruder"},
    "ledger-hold-post": {},
    "ledger-hold-void": {},
}


def test_another_namespaces_objects_are_not_found() -> None:
    everything = ["ledger:read", "ledger:write", "webhooks:read", "webhooks:write"]
    owner = _client(_key(everything, namespace="cards"))
    intruder = _client(_key(everything, namespace="loans"))
    objects = _ledger_objects(owner)
    before = owner.get(f"/api/v1/ledger/accounts/{objects['ledger-account']['account_id']}").json()
    missing_kwargs = {name: {k: uuid.uuid4() for k in kw} for name, kw in objects.items()}

    for name, kwargs in objects.items():
        method = "post" if name in BODIES else "get"
        call = getattr(intruder, method)
        extra = {"format": "json", "HTTP_IDEMPOTENCY_KEY": f"i-{name}"}
        response = call(reverse(name, kwargs=kwargs), BODIES.get(name, {}), **extra)
        extra["HTTP_IDEMPOTENCY_KEY"] += "-missing"
        missing = call(reverse(name, kwargs=missing_kwargs[name]), BODIES.get(name, {}), **extra)

        assert response.status_code == 404, (name, response.content)
        # The same answer, but for the id the caller sent (echoed in some errors' details).
        asked = {str(v) for v in kwargs.values()} | {str(v) for v in missing_kwargs[name].values()}
        assert _without(response.json(), asked) == _without(missing.json(), asked), name
    after = owner.get(f"/api/v1/ledger/accounts/{objects['ledger-account']['account_id']}").json()
    assert after == before
    hold = owner.get(reverse("ledger-hold", kwargs=objects["ledger-hold"])).json()
    assert hold["status"] == "pending"
    assert Delivery.objects.count() == 1  # no replay was made
    assert len(EndpointSecret.objects.all()) == 1  # no rotation either


@pytest.mark.parametrize("case", ["revoked", "expired", "forged", "unknown_prefix"])
def test_dead_or_forged_keys_are_refused(case: str) -> None:
    key = _key(["ledger:read"])
    row = ApiKey.objects.get(prefix=key[:12])
    if case == "revoked":
        accounts_services.api_key_revoke(key_id=row.pk, revoked_by_id=None)
    elif case == "expired":
        ApiKey.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "forged":
        key = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    else:
        key = "fsk_00000000_" + key[13:]
    assert _client(_key(["ledger:read"])).get("/api/v1/ledger/accounts").status_code == 200

    response = _client(key).get("/api/v1/ledger/accounts")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
