"""Mass assignment: every writable /api/v1/ route ignores or rejects fields a client must not
set (is_staff, balance, owner, status, tier, ...).

The routes come from Django's URL resolver: a new POST/PUT/PATCH route with no case here (and no
exemption with a reason) fails `test_every_writable_route_has_a_case`. Each case sends a valid
request plus every forbidden field, as a signed-in mobile customer (JWT), and then compares the
customer's and another customer's protected state (user flags, verified e-mails, KYC tier,
wallets: owner, status, posted/pending/available) with what that request may change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver

from apps.accounts.tests.mobile import MobileClient, with_two_factor
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.kyc import services as kyc_services
from apps.kyc.tests.factories import PROFILE, jpeg, profile_fields, verified_phone
from apps.ledger import selectors as ledger_selectors
from apps.ledger.tests.factories import fund
from apps.payments.tests.factories import bank_account, iban
from apps.wallets import services as wallet_services
from apps.wallets.models import Wallet, WalletMember
from apps.wallets.tests.factories import make_user, make_wallet
from tests.security.test_authorization_matrix import url_patterns

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")
FUNDED = 50_000

EXEMPT = {
    ("me-close", "post"): "takes no input (request=None)",
    ("kyc-case-withdraw", "post"): "takes no input (request=None)",
    ("payment-cancel", "post"): "takes no input (request=None)",
    ("wallet-close", "post"): "takes no input (request=None)",
    ("wallet-invitation-accept", "post"): "takes no input (request=None)",
    ("wallet-invitation-decline", "post"): "takes no input (request=None)",
    ("money-request-decline", "post"): "takes no input (request=None)",
    ("money-request-cancel", "post"): "takes no input (request=None)",
    ("webhook", "post"): "no user: a signed provider callback (verified before parsing)",
    ("kyc-webhook", "post"): "no user: a signed vendor callback (verified before parsing)",
    **{
        (route, "post"): "API keys only: apps/ledger/tests/test_api.py, test_mass_assignment_*"
        for route in (
            "ledger-accounts",
            "ledger-transactions",
            "ledger-transaction-reverse",
            "ledger-holds",
            "ledger-hold-post",
            "ledger-hold-void",
        )
    },
    **{
        (route, method): "API keys only: apps/webhooks/tests/test_api.py (namespace, types)"
        for route, method in (
            ("webhook-endpoints", "post"),
            ("webhook-endpoint", "patch"),
            ("webhook-endpoint-rotate", "post"),
            ("webhook-delivery-replay", "post"),
        )
    },
}


def writable_routes() -> set[tuple[str, str]]:
    found = set()
    for pattern, entry in url_patterns(get_resolver().url_patterns):
        if not pattern.startswith("api/v1/"):
            continue
        view = getattr(entry.callback, "view_class", None) or entry.callback.cls
        found |= {(entry.name, m) for m in WRITE_METHODS if hasattr(view, m)}
    return found


@dataclass
class World:
    app: MobileClient
    user: Any
    wallet: Wallet
    victim: Any
    victim_wallet: Wallet
    extra: dict[str, Any] = field(default_factory=dict)
    injected_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def forbidden(self) -> dict[str, Any]:
        return {
            "is_staff": True,
            "is_superuser": True,
            "is_active": True,
            "balance": 10**9,
            "posted": 10**9,
            "pending": 0,
            "available": 10**9,
            "tier": 2,
            "kyc_tier": 2,
            "owner": self.victim.pk,
            "owner_id": self.victim.pk,
            "user": self.victim.pk,
            "user_id": self.victim.pk,
            "requested_by": self.victim.pk,
            "status": "succeeded",
            "email_verified": True,
            "phone_verified": True,
            "roles": ["compliance"],
            "fee": 0,
            "id": self.injected_id,
            "email": "mallory@example.com",
        }


def _balance(wallet: Wallet) -> tuple[int, int, int]:
    view = ledger_selectors.account_balance(account_id=wallet.ledger_account_id)
    return view.posted.amount, view.pending.amount, view.available.amount


def protected_state(world: World) -> dict[str, Any]:
    people = [world.user.pk, world.victim.pk]
    users = get_user_model().objects.filter(pk__in=people).order_by("pk")
    return {
        "users": [
            (
                u.pk,
                u.email,
                u.is_staff,
                u.is_superuser,
                u.is_active,
                u.phone_verified,
                sorted(u.groups.values_list("name", flat=True)),
            )
            for u in users
        ],
        "emails": sorted(
            EmailAddress.objects.filter(user_id__in=people).values_list(
                "user_id", "email", "verified", "primary"
            )
        ),
        "tiers": [kyc_selectors.tier_of(user_id=pk) for pk in people],
        "wallets": {
            w.pk: (w.owner_id, w.currency, w.status, _balance(w))
            for w in Wallet.objects.filter(owner_id__in=people)
        },
    }


# --- the cases: (route, method) -> request to send and the state change it may cause ------


@dataclass(frozen=True)
class Case:
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any]]
    status: int
    multipart: bool = False
    strong_auth: bool = False  # two-factor on and a fresh login (money leaving)
    idempotent: bool = False
    setup: Callable[[World], None] = lambda world: None
    change: Callable[[World, dict[str, Any], Any], None] = lambda world, state, body: None


def _moved(world: World, state: dict[str, Any], *deltas: tuple[Wallet, int, int, int]) -> None:
    for wallet, posted, pending, available in deltas:
        owner, currency, status, (p, q, a) = state["wallets"][wallet.pk]
        state["wallets"][wallet.pk] = (
            owner,
            currency,
            status,
            (p + posted, q + pending, a + available),
        )


def _new_wallet(world: World, state: dict[str, Any], body: Any) -> None:
    wallet = Wallet.objects.get(pk=body["id"])
    state["wallets"][wallet.pk] = (world.user.pk, "USD", "active", (0, 0, 0))


def _notification_id(world: World) -> str:
    return world.app.call("get", "/api/v1/notifications").body["results"][0]["id"]


def _with_bank_account(world: World) -> None:
    world.extra["source"] = bank_account(world.user)


def _with_shared_wallet(world: World) -> None:
    """A shared wallet of the customer's with the other customer on it."""
    shared = make_wallet(world.user, shared=True)
    wallet_services.wallet_member_add(
        wallet_id=shared.pk, owner_id=world.user.pk, member_id=world.victim.pk
    )
    world.extra["shared"] = shared
    world.extra["member"] = WalletMember.objects.get(wallet=shared)


def _with_money_request(world: World) -> None:
    """The other customer asks this one for 1,000 into their wallet."""
    world.extra["request"] = wallet_services.money_request_create(
        requester_id=world.victim.pk,
        contact=world.user.email,
        amount=Money(1_000, "EUR"),
        wallet_id=world.victim_wallet.pk,
    )["id"]


def _with_profile(world: World) -> None:
    """Unverified (tier 0) with a complete profile: tier 1 may be asked for."""
    kyc_services.customer_tier_set(user_id=world.user.pk, level=0)
    verified_phone(world.user.pk)
    kyc_services.profile_save(user_id=world.user.pk, **profile_fields())


CASES: dict[tuple[str, str], Case] = {
    ("me", "patch"): Case(
        path=lambda w: "/api/v1/me",
        body=lambda w: {"first_name": "Ann", **w.forbidden()},
        status=200,
    ),
    ("kyc-profile", "put"): Case(
        path=lambda w: "/api/v1/kyc/profile",
        body=lambda w: {**PROFILE, **w.forbidden()},
        status=200,
    ),
    ("kyc-documents", "post"): Case(
        path=lambda w: "/api/v1/kyc/documents",
        body=lambda w: {
            "type": "passport",
            "file": SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg"),
            **{k: str(v) for k, v in w.forbidden().items() if k != "roles"},
            "review": "approved",
        },
        status=201,
        multipart=True,
    ),
    ("kyc-submit", "post"): Case(
        path=lambda w: "/api/v1/kyc/submit",
        body=lambda w: {**w.forbidden(), "tier": 1},
        status=200,
        setup=_with_profile,
        # tier 1 asked for and screening clean: approved at once; never the tier 2 sent
        change=lambda w, s, b: s["tiers"].__setitem__(0, 1),
    ),
    ("notification-read", "post"): Case(
        path=lambda w: f"/api/v1/notifications/{_notification_id(w)}/read",
        body=lambda w: w.forbidden(),
        status=204,
    ),
    ("notification-read-all", "post"): Case(
        path=lambda w: "/api/v1/notifications/read-all",
        body=lambda w: w.forbidden(),
        status=200,
    ),
    ("notification-prefs", "put"): Case(
        path=lambda w: "/api/v1/notifications/preferences",
        body=lambda w: {
            "preferences": [
                {"category": "marketing", "channel": "email", "enabled": False, "locked": True}
            ],
            **w.forbidden(),
        },
        status=200,
    ),
    ("device-list", "post"): Case(
        path=lambda w: "/api/v1/devices",
        body=lambda w: {"platform": "ios", "token": f"t-{uuid.uuid4()}", **w.forbidden()},
        status=201,
    ),
    ("funding-source-list", "post"): Case(
        path=lambda w: "/api/v1/funding-sources",
        body=lambda w: {
            "iban": iban("0001"),
            "holder_name": "Ann Example",
            "currency": "EUR",
            **w.forbidden(),
            "verified": True,
        },
        status=201,
        strong_auth=True,
    ),
    ("deposit-create", "post"): Case(
        path=lambda w: "/api/v1/deposits",
        body=lambda w: {
            "wallet": str(w.wallet.pk),
            "funding_source": str(w.extra["source"].pk),
            "amount": 1_000,
            "currency": "EUR",
            **w.forbidden(),
        },
        status=201,
        idempotent=True,
        setup=_with_bank_account,
    ),
    ("withdrawal-create", "post"): Case(
        path=lambda w: "/api/v1/withdrawals",
        body=lambda w: {
            "wallet": str(w.wallet.pk),
            "funding_source": str(w.extra["source"].pk),
            "amount": 1_000,
            "currency": "EUR",
            **w.forbidden(),
        },
        status=201,
        strong_auth=True,
        idempotent=True,
        setup=_with_bank_account,
        # held: available drops, posted does not (the bank has not paid out yet)
        change=lambda w, s, b: _moved(w, s, (w.wallet, 0, 1_000, -1_000)),
    ),
    ("wallet-list", "post"): Case(
        path=lambda w: "/api/v1/wallets",
        body=lambda w: {"currency": "USD", **w.forbidden(), "status": "frozen", "role": "owner"},
        status=201,
        change=_new_wallet,
    ),
    ("wallet-members", "post"): Case(
        path=lambda w: f"/api/v1/wallets/{w.extra['shared'].pk}/members",
        body=lambda w: {"contact": "new-member@example.com", **w.forbidden()},
        status=201,
        setup=_with_shared_wallet,
    ),
    ("wallet-member-detail", "patch"): Case(
        path=lambda w: (
            f"/api/v1/wallets/{w.extra['shared'].pk}/members/{w.extra['member'].public_id}"
        ),
        body=lambda w: {"role": "viewer", **w.forbidden()},
        status=200,
        setup=_with_shared_wallet,
    ),
    ("money-requests", "post"): Case(
        path=lambda w: "/api/v1/money-requests",
        body=lambda w: {
            "contact": w.victim.email,
            "amount": 1_000,
            "currency": "EUR",
            **w.forbidden(),
        },
        status=201,
    ),
    ("money-request-accept", "post"): Case(
        path=lambda w: f"/api/v1/money-requests/{w.extra['request']}/accept",
        body=lambda w: w.forbidden(),
        status=200,
        setup=_with_money_request,
        # the customer pays the other customer's request: the only change
        change=lambda w, s, b: _moved(
            w,
            s,
            (w.wallet, -1_000 - b["transfer"]["fee"], 0, -1_000 - b["transfer"]["fee"]),
            (w.victim_wallet, 1_000, 0, 1_000),
        ),
    ),
    ("transfer-create", "post"): Case(
        path=lambda w: "/api/v1/transfers",
        body=lambda w: {
            "source_wallet": str(w.wallet.pk),
            "destination": str(w.victim_wallet.pk),
            "amount": 1_000,
            "currency": "EUR",
            **w.forbidden(),
        },
        status=201,
        idempotent=True,
        change=lambda w, s, b: _moved(
            w,
            s,
            (w.wallet, -1_000 - b["fee"], 0, -1_000 - b["fee"]),
            (w.victim_wallet, 1_000, 0, 1_000),
        ),
    ),
}


def test_every_writable_route_has_a_case() -> None:
    routes = writable_routes()
    assert routes - set(CASES) - set(EXEMPT) == set(), (
        "a writable route has no mass-assignment case"
    )
    assert (set(CASES) | set(EXEMPT)) - routes == set(), "a case names a route that is gone"


def _world(strong_auth: bool) -> World:
    app = MobileClient()
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    assert app.sign_up(email).status_code == 200
    if strong_auth:
        with_two_factor(app)
    user = get_user_model().objects.get(email=email)
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    wallet = Wallet.objects.get(owner=user, currency="EUR")
    fund(wallet.ledger_account_id, Money(FUNDED, "EUR"))
    victim = make_user()
    return World(app, user, wallet, victim, make_wallet(victim, funded=FUNDED))


@pytest.mark.parametrize("route", sorted(CASES), ids=[f"{n}-{m}" for n, m in sorted(CASES)])
def test_forbidden_fields_change_nothing(route: tuple[str, str]) -> None:
    case = CASES[route]
    world = _world(case.strong_auth)
    case.setup(world)
    before = protected_state(world)
    headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if case.idempotent else {}
    url = case.path(world)

    if case.multipart:
        response = world.app.http.post(
            url,
            case.body(world),
            format="multipart",
            HTTP_AUTHORIZATION=f"Bearer {world.app.access}",
            **headers,
        )
        body = response.json()
    else:
        world.app.http.credentials(**headers)
        response = world.app.call(route[1], url, case.body(world))
        body = response.body

    assert response.status_code == case.status, body
    expected = before
    case.change(world, expected, body)
    assert protected_state(world) == expected
    # Nothing the client sent shows up as if it had been accepted.
    if isinstance(body, dict):
        assert body.get("id") != world.injected_id
        assert body.get("email") in (None, world.user.email)
        assert body.get("status") not in ("succeeded", "frozen")
        assert body.get("owner") in (None, world.user.pk)
        assert body.get("user") in (None, world.user.pk)
        assert body.get("kyc_tier") in (None, 1)
        assert body.get("tier") in (None, 0, 1)
