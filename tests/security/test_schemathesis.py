"""Every operation of our OpenAPI schema fuzzed by schemathesis, as a signed-in customer.

The schema is the one the app serves (`/api/schema/`), loaded through Django's WSGI app (no
server, no mocks: the real database and Redis). A signed-in mobile customer (JWT from allauth's
headless API) calls each operation with generated input; every money POST gets a fresh
`Idempotency-Key`. The ledger and webhook-endpoint APIs, which take API keys only, are called
with a key holding their scopes in its own namespace. In CI: no 5xx, every status code
documented, every body and content type as the schema says.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts import services as accounts_services
from apps.accounts.tests.mobile import MobileClient, with_two_factor
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger import services as ledger_services
from apps.ledger.tests.factories import fund
from apps.notifications import services as notification_services
from apps.notifications.models import Notification
from apps.payments.tests.factories import bank_account, deposit
from apps.wallets import services as wallet_services
from apps.wallets.models import Wallet
from apps.wallets.tests.factories import make_wallet
from apps.webhooks import services as webhook_services
from apps.webhooks.models import Delivery

# CI keeps it small (about a minute for every operation); raise it locally to dig deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# allauth's headless API is documented by allauth's own hand-written spec, merged into ours; it
# does not list every status (410 for an unknown session token, 403/429 for its rate limits) or
# content type it really answers with. Its operations are fuzzed for server errors only.
ALLAUTH_CHECKS = [not_a_server_error]
STRONG_AUTH = ("/api/v1/withdrawals", "/api/v1/funding-sources")  # RecentStrongAuth


def _load_schema() -> schemathesis.BaseSchema:
    """The schema as `/api/schema/` serves it. Loaded at collection (eager: schemathesis's lazy
    `from_fixture` does not work with pytest 9's nodes); the view reads no database."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    loaded.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
    )
    return loaded


schema = _load_schema()


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """Django's WSGI app as a server runs it, except that a request's end does not close the
    test's database connection (the test's transaction holds the data; Django's own test
    client does the same, and reconnects the handlers after each of its requests)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@dataclass
class Customer:
    """The signed-in customer, and the ids of their own objects for path parameters."""

    user: Any
    token: str
    objects: dict[str, Callable[[Any], str]]
    key: str  # an API key, for the routes that take only keys
    made: dict[str, str] = field(default_factory=dict)

    def own(self, parameter: str) -> str | None:
        if parameter not in self.objects:
            return None
        if parameter not in self.made:
            self.made[parameter] = str(self.objects[parameter](self.user))
        return self.made[parameter]


def _default_wallet(user: Any) -> UUID:
    return Wallet.objects.get(owner=user, currency="EUR").pk


def _transfer(user: Any) -> UUID:
    transfer = wallet_services.transfer_create(
        source_wallet_id=_default_wallet(user),
        destination=str(make_wallet().pk),
        amount=Money(100, "EUR"),
        requested_by_id=user.pk,
        idempotency_key=f"fuzz-{uuid.uuid4()}",
    )
    return transfer.id


def _payment(user: Any) -> UUID:
    return deposit(user, _default_wallet(user), bank_account(user, "0008"), amount=1_000)


OWN_OBJECTS: dict[str, Callable[[Any], Any]] = {
    "wallet_id": _default_wallet,
    "transfer_id": _transfer,
    "notification_id": lambda user: Notification.objects.filter(user=user).first().pk,
    "device_id": lambda user: notification_services.device_register(
        user_id=user.pk, platform="ios", token=f"fuzz-{uuid.uuid4()}"
    )[0],
    "source_id": lambda user: bank_account(user).pk,
    "payment_id": _payment,
    "user_id": lambda user: user.pk,
}
# Body fields naming objects: valid input uses the customer's own (and a real recipient).
OWN_IN_BODY = {
    "wallet": "wallet_id",
    "source_wallet": "wallet_id",
    "funding_source": "source_id",
    "destination": "recipient_wallet_id",
}
OWN_OBJECTS["recipient_wallet_id"] = lambda user: make_wallet().pk
FUZZ_NAMESPACE = "fuzz"


def _ledger_account(code: str, kind: str = "asset") -> UUID:
    account_id, _ = ledger_services.external_account_open(
        namespace=FUZZ_NAMESPACE, code=code, name=code, type=kind, currency="EUR", rule="none"
    )
    return account_id


def _ledger_transaction(user: Any) -> UUID:
    legs = [
        ledger_services.Leg(_ledger_account("a"), "D", Money(500, "EUR")),
        ledger_services.Leg(_ledger_account("b", "liability"), "C", Money(500, "EUR")),
    ]
    return ledger_services.external_post(
        namespace=FUZZ_NAMESPACE,
        everywhere=False,
        reference=f"fuzz-{uuid.uuid4()}",
        legs=legs,
        description="",
        metadata={},
        created_by="fuzz",
    ).transaction_id


def _ledger_hold(user: Any) -> UUID:
    _ledger_transaction(user)  # b holds 500
    return ledger_services.external_hold_create(
        namespace=FUZZ_NAMESPACE,
        everywhere=False,
        reference=f"fuzz-{uuid.uuid4()}",
        debit_account_id=_ledger_account("a"),
        credit_account_id=_ledger_account("b", "liability"),
        amount=Money(100, "EUR"),
        expires_at=None,
        description="",
        metadata={},
    ).hold_id


OWN_OBJECTS |= {
    "account_id": lambda user: _ledger_account("a"),
    "ledger_account_id": lambda user: _ledger_account("b", "liability"),
    "transaction_id": _ledger_transaction,
    "hold_id": _ledger_hold,
}
OWN_IN_BODY |= {"debit_account": "account_id", "credit_account": "ledger_account_id"}


def _webhook_endpoint(user: Any) -> UUID:
    return webhook_services.endpoint_create(
        url="https://hooks.example.com/fuzz", namespace=FUZZ_NAMESPACE
    ).endpoint.id


def _webhook_delivery(user: Any) -> UUID:
    endpoint_id = _webhook_endpoint(user)
    return Delivery.objects.create(
        endpoint_id=endpoint_id,
        event_id=uuid.uuid4(),
        event_type="ledger.transaction_posted",
        event_created_at=timezone.now(),
        payload={},
        next_attempt_at=timezone.now(),
    ).pk


OWN_OBJECTS |= {"endpoint_id": _webhook_endpoint, "delivery_id": _webhook_delivery}


@pytest.fixture
def customer(db: None, settings: Any, request: pytest.FixtureRequest) -> Customer:
    app = MobileClient()
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    response = app.sign_up(email)
    assert response.status_code == 200, response.body
    if any(f"POST {path}]" in request.node.name for path in STRONG_AUTH):
        with_two_factor(app)  # money leaving: two-factor on, logged in just now
    assert app.access
    user = get_user_model().objects.get(email=email)
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    fund(Wallet.objects.get(pk=_default_wallet(user)).ledger_account_id, Money(100_000, "EUR"))
    # The per-user money rate (60/min) would turn most money examples into 429s: lifted, so
    # the fuzzer reaches the views (the throttle still runs, and 429s are still checked).
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "money": "100000/min"},
    }
    key = accounts_services.api_key_create(
        name="fuzz",
        namespace=FUZZ_NAMESPACE,
        scopes=["ledger:read", "ledger:write", "webhooks:read", "webhooks:write"],
        created_by_id=None,
    ).key
    return Customer(user, app.access, OWN_OBJECTS, key)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_conforms_to_the_schema(
    case: schemathesis.Case, customer: Customer
) -> None:
    positive = bool(case.meta and case.meta.generation.mode.is_positive)
    wants_key = any(
        p.get("in") == "header" and p.get("name") == "Idempotency-Key"
        for p in case.operation.definition.raw.get("parameters", [])
    )
    if wants_key and (positive or isinstance((case.headers or {}).get("Idempotency-Key"), str)):
        case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}
    if positive and case.path_parameters:
        # Valid input reaches the customer's own objects (their 200s are checked too); random
        # ids of other rows are the authorization matrix's job.
        for name in list(case.path_parameters):
            own = customer.own(name)
            if own is not None:
                case.path_parameters[name] = own
    if positive and isinstance(case.body, dict):
        for name, kind in OWN_IN_BODY.items():
            if isinstance(case.body.get(name), str):
                case.body[name] = customer.own(kind)
    allauth = case.operation.path.startswith("/_allauth/")
    machine = case.operation.path.startswith(("/api/v1/ledger/", "/api/v1/webhook-"))
    with _test_connection_kept():
        case.call_and_validate(
            headers={"Authorization": f"Bearer {customer.key if machine else customer.token}"},
            checks=ALLAUTH_CHECKS if allauth else CHECKS,
        )
