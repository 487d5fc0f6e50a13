"""Object-level authorization: every /api/v1/ route with a path parameter, called by another
customer with the owner's ids, answers 404 exactly as for an id that does not exist.

The routes come from Django's URL resolver, so a new route with a path parameter and no entry
in OBJECT_MAKERS (or one of the exemptions below) fails `test_every_route_is_in_the_matrix`.
Also: the staff-only API refuses customers, and the admin refuses staff without OTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.kyc.models import Case
from apps.kyc.tests.factories import draft_case
from apps.notifications import services as notification_services
from apps.notifications.models import Notification, PushDevice
from apps.payments import services as payment_services
from apps.payments.models import FundingSource, Payment
from apps.payments.tests.factories import bank_account, deposit
from apps.wallets import services as wallet_services
from apps.wallets.models import MoneyRequest, Wallet, WalletInvitation, WalletMember
from apps.wallets.tests.factories import make_user, make_wallet

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple[str, ...]
    methods: tuple[str, ...]


def url_patterns(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_routes_with_parameters() -> list[Route]:
    routes = []
    for pattern, entry in url_patterns(get_resolver().url_patterns):
        if not pattern.startswith("api/v1/") or not entry.pattern.converters:
            continue
        view = getattr(entry.callback, "view_class", None) or entry.callback.cls
        methods = tuple(m for m in METHODS if hasattr(view, m))
        routes.append(Route(entry.name, pattern, tuple(entry.pattern.converters), methods))
    return routes


# --- how to make an object of user A for each route: returns the route's kwargs ----------


def _wallet(owner: Any) -> dict[str, Any]:
    return {"wallet_id": make_wallet(owner, funded=5_000).pk}


def _transfer(owner: Any) -> dict[str, Any]:
    source = make_wallet(owner, funded=5_000)
    destination = make_wallet()
    transfer = wallet_services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(destination.pk),
        amount=Money(100, "EUR"),
        requested_by_id=owner.pk,
        idempotency_key=f"authz-{uuid.uuid4()}",
    )
    return {"transfer_id": transfer.id}


def _notification(owner: Any) -> dict[str, Any]:
    notification_services.notify(user_id=owner.pk, kind="welcome")
    return {"notification_id": Notification.objects.get(user=owner).pk}


def _device(owner: Any) -> dict[str, Any]:
    device_id, _ = notification_services.device_register(
        user_id=owner.pk, platform="ios", token=f"token-{uuid.uuid4()}"
    )
    return {"device_id": device_id}


def _funding_source(owner: Any) -> dict[str, Any]:
    return {"source_id": bank_account(owner).pk}


def _payment(owner: Any) -> dict[str, Any]:
    wallet = make_wallet(owner).pk
    return {"payment_id": deposit(owner, wallet, bank_account(owner), amount=1_000)}


def _cancelable_payment(owner: Any) -> dict[str, Any]:
    """A deposit accepted but not yet sent to the bank (its step has not run)."""
    wallet = make_wallet(owner).pk
    payment_id = payment_services.deposit_create(
        user_id=owner.pk,
        wallet_id=wallet,
        funding_source_id=bank_account(owner).pk,
        amount=Money(1_000, "EUR"),
        client_key=f"authz-{uuid.uuid4()}",
    )
    return {"payment_id": payment_id}


def _shared_wallet(owner: Any) -> dict[str, Any]:
    return {"wallet_id": make_wallet(owner, shared=True).pk}


def _wallet_member(owner: Any) -> dict[str, Any]:
    wallet = make_wallet(owner, shared=True)
    member = make_user()
    wallet_services.wallet_member_add(wallet_id=wallet.pk, owner_id=owner.pk, member_id=member.pk)
    return {"wallet_id": wallet.pk, "member_id": WalletMember.objects.get(wallet=wallet).public_id}


def _wallet_invitation(owner: Any) -> dict[str, Any]:
    """An invitation addressed to `owner` (only the invitee answers it)."""
    inviter = make_user()
    wallet = make_wallet(inviter, shared=True)
    invitation = wallet_services.wallet_invitation_create(
        wallet_id=wallet.pk, owner_id=inviter.pk, contact=owner.email
    )
    return {"invitation_id": invitation["id"]}


def _money_request(requester: Any, payer: Any) -> dict[str, Any]:
    make_wallet(requester)
    request = wallet_services.money_request_create(
        requester_id=requester.pk, contact=payer.email, amount=Money(500, "EUR")
    )
    return {"request_id": request["id"]}


def _kyc_case(owner: Any) -> dict[str, Any]:
    return {"case_id": draft_case(owner.pk)}


OBJECT_MAKERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "wallet-detail": _wallet,
    "wallet-balance": _wallet,
    "wallet-transactions": _wallet,
    "wallet-close": _wallet,
    "wallet-members": _shared_wallet,
    "wallet-member-detail": _wallet_member,
    "wallet-invitation-accept": _wallet_invitation,
    "wallet-invitation-decline": _wallet_invitation,
    "money-request-accept": lambda owner: _money_request(make_user(), owner),  # owner pays
    "money-request-decline": lambda owner: _money_request(make_user(), owner),
    "money-request-cancel": lambda owner: _money_request(owner, make_user()),
    "transfer-detail": _transfer,
    "notification-read": _notification,
    "device-detail": _device,
    "funding-source-detail": _funding_source,
    "payment-detail": _payment,
    "payment-cancel": _cancelable_payment,
    "kyc-case-withdraw": _kyc_case,
}
# Routes whose parameter names no customer's object.
NOT_OWNED = {
    "webhook": "provider slug; signed provider callbacks, no user",
    "kyc-webhook": "provider slug; signed vendor callbacks, no user",
}
STAFF_ONLY = {"staff-customer": {"user_id": 1}}
# Routes for API keys, not customers: their matrix is tests/security/test_authorization_keys.py.
KEY_ONLY = {
    "ledger-account",
    "ledger-account-entries",
    "ledger-transaction",
    "ledger-transaction-reverse",
    "ledger-hold",
    "ledger-hold-post",
    "ledger-hold-void",
    "webhook-endpoint",
    "webhook-endpoint-rotate",
    "webhook-endpoint-deliveries",
    "webhook-delivery-replay",
}


def _still_as_before(route: str, kwargs: dict[str, Any]) -> None:
    """After the other customer's refusal, the owner's object is untouched."""
    if route == "notification-read":
        assert Notification.objects.get(pk=kwargs["notification_id"]).read_at is None
    elif route == "device-detail":
        assert PushDevice.objects.filter(pk=kwargs["device_id"], active=True).exists()
    elif route == "kyc-case-withdraw":
        assert Case.objects.get(pk=kwargs["case_id"]).state == "draft"
    elif route == "wallet-close":
        assert Wallet.objects.get(pk=kwargs["wallet_id"]).status == "active"
    elif route == "payment-cancel":
        assert Payment.objects.get(pk=kwargs["payment_id"]).state == "processing"
    elif route == "wallet-members":
        assert not WalletInvitation.objects.filter(wallet_id=kwargs["wallet_id"]).exists()
    elif route == "wallet-member-detail":
        member = WalletMember.objects.get(public_id=kwargs["member_id"])
        assert (member.role, member.daily_limit) == ("spender", None)
    elif route.startswith("wallet-invitation-"):
        assert WalletInvitation.objects.get(pk=kwargs["invitation_id"]).state == "pending"
    elif route.startswith("money-request-"):
        assert MoneyRequest.objects.get(pk=kwargs["request_id"]).state == "pending"
    elif route == "funding-source-detail":
        assert FundingSource.objects.get(pk=kwargs["source_id"]).removed_at is None


def test_every_route_is_in_the_matrix() -> None:
    names = {route.name for route in api_routes_with_parameters()}
    covered = set(OBJECT_MAKERS) | set(NOT_OWNED) | set(STAFF_ONLY) | KEY_ONLY
    assert names - covered == set(), "a route with a path parameter has no authorization case"
    assert covered - names == set(), "the matrix names a route that no longer exists"


def _user(email_prefix: str) -> Any:
    """A customer on tier 1, with no wallet yet."""
    user = make_user(f"{email_prefix}-{uuid.uuid4().hex[:8]}@example.com")
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    return user


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


ROUTES = [r for r in api_routes_with_parameters() if r.name in OBJECT_MAKERS]


@pytest.mark.parametrize(
    ("route", "method"),
    [(r, m) for r in ROUTES for m in r.methods],
    ids=[f"{r.name}-{m}" for r in ROUTES for m in r.methods],
)
def test_another_customers_object_is_not_found(db: None, route: Route, method: str) -> None:
    owner, intruder = _user("owner"), _user("intruder")
    kwargs = OBJECT_MAKERS[route.name](owner)
    url = reverse(route.name, kwargs=kwargs)
    missing = reverse(route.name, kwargs={k: uuid.uuid4() for k in kwargs})
    if "get" in route.methods:
        assert _client(owner).get(url).status_code == 200  # the owner does see it

    response = getattr(_client(intruder), method)(url, {}, format="json")

    assert response.status_code == 404, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    # Exactly what a row that does not exist answers: nothing tells "exists, not yours".
    assert body == getattr(_client(intruder), method)(missing, {}, format="json").json()
    _still_as_before(route.name, kwargs)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/reports/summary", {}),
        ("/api/v1/reports/statements", {"month": "2026-11", "format": "csv"}),
    ],
)
def test_another_customers_wallet_in_a_query_is_not_found(
    db: None, path: str, query: dict[str, str]
) -> None:
    owner, intruder = _user("owner"), _user("intruder")
    wallet_id = _wallet(owner)["wallet_id"]
    assert _client(owner).get(path, {"wallet": wallet_id, **query}).status_code == 200

    response = _client(intruder).get(path, {"wallet": wallet_id, **query})

    assert response.status_code == 404
    missing = _client(intruder).get(path, {"wallet": uuid.uuid4(), **query})
    assert response.json() == missing.json()
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_sending_from_another_customers_wallet_is_not_found(db: None) -> None:
    owner, intruder = _user("owner"), _user("intruder")
    source = make_wallet(owner, funded=5_000)
    target = make_wallet(intruder)
    body = {"destination": str(target.pk), "amount": 100, "currency": "EUR"}

    response = _client(intruder).post(
        "/api/v1/transfers",
        {**body, "source_wallet": str(source.pk)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert response.status_code == 404
    missing = _client(intruder).post(
        "/api/v1/transfers",
        {**body, "source_wallet": str(uuid.uuid4())},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.json() == missing.json()
    view = _client(owner).get(f"/api/v1/wallets/{source.pk}").json()
    assert view["balance"] == {"posted": 5_000, "pending": 0, "available": 5_000}


@pytest.mark.parametrize("kind", ["deposits", "withdrawals"])
def test_paying_with_another_customers_wallet_or_bank_account_is_refused(
    db: None, kind: str
) -> None:
    owner, intruder = _user("owner"), _user("intruder")
    wallet = make_wallet(owner, funded=5_000)
    source = bank_account(owner)
    own_wallet = make_wallet(intruder)
    for body in (
        {"wallet": str(wallet.pk), "funding_source": str(bank_account(intruder, "0008").pk)},
        {"wallet": str(own_wallet.pk), "funding_source": str(source.pk)},
    ):
        response = _client(intruder).post(
            f"/api/v1/{kind}",
            {**body, "amount": 100, "currency": "EUR"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        if kind == "withdrawals":  # no two-factor: refused before any lookup
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "mfa_required"
        else:
            assert response.status_code == 404, response.content
            assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not _client(intruder).get("/api/v1/payments").json()["results"]


# --- staff only -----------------------------------------------------------------------


def test_the_staff_api_refuses_customers(db: None) -> None:
    someone = _user("someone")
    response = _client(_user("customer")).get(f"/api/v1/staff/customers/{someone.pk}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert set(response.json()["error"]) == {"code", "message", "details"}


ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/wallets/wallet/",
    "/admin/ledger/transaction/",
    "/admin/payments/payment/",
    "/admin/kyc/case/",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_the_admin_refuses_staff_without_otp(db: None, page: str) -> None:
    staff = get_user_model().objects.create_user(
        f"ops-{uuid.uuid4().hex[:6]}@finstack.test", "a long staff password 1", is_staff=True
    )
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff)  # the password, but no OTP verification in the session

    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
