"""Hostile text in every free-text field and hostile bodies: oversize JSON, deep nesting, very
long strings, NUL bytes (which PostgreSQL refuses), unpaired surrogates, bidi overrides,
zero-width and combining characters, emoji. Always a clear 4xx in the error shape or a faithful
round trip, never a 5xx, and nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.tests.mobile import MobileClient, with_two_factor
from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.kyc.models import Document, Profile
from apps.kyc.tests.factories import PROFILE, png
from apps.ledger import services as ledger_services
from apps.notifications.models import PushDevice
from apps.payments.models import FundingSource
from apps.payments.tests.factories import iban
from apps.wallets.models import Transfer, Wallet
from apps.wallets.tests.factories import make_user, make_wallet

pytestmark = pytest.mark.django_db

NUL_OR_SURROGATE = {
    "error": {
        "code": "parse_error",
        "message": "JSON parse error - strings may not contain NUL characters or unpaired "
        "surrogates.",
        "details": {},
    }
}
TOO_DEEP = {
    "error": {
        "code": "parse_error",
        "message": "JSON parse error - nested deeper than 32 levels.",
        "details": {},
    }
}
TOO_LARGE = {
    "error": {
        "code": "request_too_large",
        "message": "The request body is too large.",
        "details": {},
    }
}
# Storable, if odd: each must come back exactly as sent (or be refused with a 400).
ODD_TEXT = [
    "\u202eevil.exe",  # right-to-left override
    "a\u200bb\u200c\u200dc\u2060",  # zero-width space, non-joiner, joiner, word joiner
    "Zoe\u0308 n\u0303",  # combining diaeresis and tilde (NFD)
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic, right to left
    "💸👨‍👩‍👧🏳️‍🌈",  # emoji with ZWJ sequences and variation selectors
    "\ufeffbom",  # byte-order mark
    "tab\there",
    "\U0001d573\U0001d586\U0001d588",  # astral-plane letters
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE wallets_wallet;--",
]
UNSTORABLE = [
    "Ann\x00a",  # NUL: PostgreSQL text refuses it (a 500 from the idempotency record)
    "\x00",
    "x\ud800y",  # a lone high surrogate (a 500 if let through)
    "\udfff",  # a lone low surrogate
]


@dataclass
class Endpoint:
    method: str
    path: str
    base: dict[str, Any]
    fields: dict[str, int | None]  # field -> max_length (None: a pattern decides)
    stored: Callable[[Any], dict[str, Any]]  # what the database holds now, for the user
    headers: dict[str, str] = field(default_factory=lambda: {"HTTP_IDEMPOTENCY_KEY": "k-1"})


@pytest.fixture
def customer():
    user = make_user("tess@example.com")
    source = make_wallet(user, funded=5_000)
    target = make_wallet()
    return user, source, target


def endpoints(source, target) -> dict[str, Endpoint]:
    def me(user):
        row = get_user_model().objects.get(pk=user.pk)
        return {"first_name": row.first_name, "last_name": row.last_name}

    def wallet(user):
        row = Wallet.objects.filter(owner=user).order_by("-created_at").first()
        return {"name": row.name if row else None}

    def transfer(user):
        row = Transfer.objects.filter(source_wallet=source).order_by("-created_at").first()
        return {"note": row.note if row else None}

    def profile(user):
        row = Profile.objects.filter(user=user).first()
        return {f: getattr(row, f) if row else None for f in KYC_FIELDS}

    def device(user):
        row = PushDevice.objects.filter(user=user).order_by("-created_at").first()
        return {"token": row.token if row else None}

    return {
        "me": Endpoint(
            "patch", "/api/v1/me", {}, {"first_name": 150, "last_name": 150}, me, headers={}
        ),
        "wallet": Endpoint(
            "post", "/api/v1/wallets", {"currency": "USD"}, {"name": 100}, wallet, headers={}
        ),
        "transfer": Endpoint(
            "post",
            "/api/v1/transfers",
            {"source_wallet": str(source.pk), "destination": str(target.pk), "amount": 5},
            {"note": 200},
            transfer,
        ),
        "kyc_profile": Endpoint(
            "put", "/api/v1/kyc/profile", dict(PROFILE), KYC_FIELDS, profile, headers={}
        ),
        "device": Endpoint(
            "post", "/api/v1/devices", {"platform": "ios"}, {"token": 512}, device, headers={}
        ),
    }


KYC_FIELDS = {
    "legal_first_name": 100,
    "legal_last_name": 100,
    "address_line": 200,
    "postal_code": 20,
    "city": 100,
}
CASES = [
    ("me", "first_name"),
    ("me", "last_name"),
    ("wallet", "name"),
    ("transfer", "note"),
    *(("kyc_profile", name) for name in KYC_FIELDS),
    ("device", "token"),
]


ONE_PER_ENDPOINT = [
    ("me", "first_name"),
    ("wallet", "name"),
    ("transfer", "note"),
    ("kyc_profile", "city"),
    ("device", "token"),
]


def state(user) -> tuple:
    """Every row a refused request might have half-written."""
    row = get_user_model().objects.get(pk=user.pk)
    return (
        row.first_name,
        row.last_name,
        Wallet.objects.count(),
        Transfer.objects.count(),
        Profile.objects.count(),
        PushDevice.objects.count(),
        Document.objects.count(),
        IdempotencyRecord.objects.count(),
        OutboxEvent.objects.count(),
    )


def send(client, endpoint: Endpoint, body: str, n: int = 0):
    """A raw JSON body (so unpaired surrogates can be sent as JSON escapes)."""
    headers = {k: f"{v}-{n}" for k, v in endpoint.headers.items()}
    return getattr(client, endpoint.method)(
        endpoint.path, body, content_type="application/json", **headers
    )


WALLET_CURRENCIES = ["USD", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "KWD"]


def with_value(endpoint: Endpoint, name: str, value: Any, n: int = 0) -> dict[str, Any]:
    body = {**endpoint.base, name: value}
    if endpoint.path == "/api/v1/transfers":
        body["currency"] = "EUR"
    if endpoint.path == "/api/v1/wallets":  # one wallet per currency: a new one each time
        body["currency"] = WALLET_CURRENCIES[n]
    if endpoint.path == "/api/v1/devices" and name != "token":
        body["token"] = f"token-{n}"
    return body


@pytest.mark.parametrize(("which", "name"), CASES)
def test_nul_and_lone_surrogates_are_refused_in_every_field(auth_client, customer, which, name):
    user, source, target = customer
    endpoint = endpoints(source, target)[which]
    client = auth_client(user)
    before = state(user)
    for value in UNSTORABLE:
        response = send(client, endpoint, json.dumps(with_value(endpoint, name, value)))
        assert (response.status_code, response.json()) == (400, NUL_OR_SURROGATE), value
        assert state(user) == before


@pytest.mark.parametrize(("which", "name"), CASES)
def test_a_nul_in_a_key_is_refused_too(auth_client, customer, which, name):
    user, source, target = customer
    endpoint = endpoints(source, target)[which]
    before = state(user)
    body = json.dumps({**with_value(endpoint, name, "ok"), f"{name}\x00": "x"})
    response = send(auth_client(user), endpoint, body)
    assert (response.status_code, response.json()) == (400, NUL_OR_SURROGATE)
    assert state(user) == before


@pytest.mark.parametrize(("which", "name"), CASES)
def test_odd_but_storable_text_round_trips_exactly(auth_client, customer, which, name):
    user, source, target = customer
    if which == "wallet":  # a new wallet per value, each in a currency the ledger books
        for code in WALLET_CURRENCIES:
            ledger_services.currency_enable(code=code)
    endpoint = endpoints(source, target)[which]
    client = auth_client(user)
    limit = endpoint.fields[name]
    for n, text in enumerate(ODD_TEXT):
        value = text[:limit] if limit else text
        body = json.dumps(with_value(endpoint, name, value, n))
        response = send(client, endpoint, body, n)
        assert response.status_code in (200, 201), (value, response.json())
        assert endpoint.stored(user)[name] == value


@pytest.mark.parametrize(("which", "name"), CASES)
def test_too_long_text_is_a_validation_error(auth_client, customer, which, name):
    user, source, target = customer
    endpoint = endpoints(source, target)[which]
    client = auth_client(user)
    limit = endpoint.fields[name]
    before = state(user)
    for size in (limit + 1, 100_000):
        value = "é" * size  # two bytes each in UTF-8: the limit counts characters
        response = send(client, endpoint, json.dumps(with_value(endpoint, name, value)))
        assert (response.status_code, response.json()) == (
            400,
            {
                "error": {
                    "code": "validation_error",
                    "message": "The request is invalid.",
                    "details": {name: [f"Ensure this field has no more than {limit} characters."]},
                }
            },
        )
        assert state(user) == before


def test_many_combining_marks_count_against_the_limit(auth_client, customer):
    user, _, _ = customer
    before = state(user)
    response = auth_client(user).patch(
        "/api/v1/me", {"first_name": "Z" + "\u0308" * 150}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "first_name": ["Ensure this field has no more than 150 characters."]
    }
    assert state(user) == before


@pytest.mark.parametrize(("which", "name"), ONE_PER_ENDPOINT)
def test_a_body_over_the_upload_limit_is_413(auth_client, customer, which, name):
    user, source, target = customer
    endpoint = endpoints(source, target)[which]
    before = state(user)
    body = json.dumps(with_value(endpoint, name, "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))
    response = send(auth_client(user), endpoint, body)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert state(user) == before


@pytest.mark.parametrize(("which", "name"), ONE_PER_ENDPOINT)
def test_deeply_nested_json_is_a_parse_error(auth_client, customer, which, name):
    user, source, target = customer
    endpoint = endpoints(source, target)[which]
    client = auth_client(user)
    before = state(user)
    for depth in (33, 1_000, 200_000):
        nested = "[" * depth + "]" * depth
        body = json.dumps(with_value(endpoint, name, "NESTED")).replace('"NESTED"', nested)
        response = send(client, endpoint, body)
        assert (response.status_code, response.json()) == (400, TOO_DEEP), depth
        assert state(user) == before


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b'{"first_name": "a"',  # truncated
        b"[]",
        b'"just a string"',
        b"null",
    ],
)
def test_malformed_bodies_are_4xx_in_the_error_shape(auth_client, customer, body):
    user, _, _ = customer
    before = state(user)
    response = auth_client(user).patch("/api/v1/me", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"parse_error", "validation_error"}
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert state(user) == before


# --- multipart (KYC documents): Django's own parser and limits ---------------------------


def upload(client, **fields: Any):
    data = {"type": "passport", "file": SimpleUploadedFile("id.png", png(), "image/png"), **fields}
    return client.post("/api/v1/kyc/documents", data, format="multipart")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("P\x00123", "Null characters are not allowed."),
        ("P" * 61, "Ensure this field has no more than 60 characters."),
    ],
)
def test_bad_text_in_a_multipart_field_is_a_validation_error(
    auth_client, customer, number, message
):
    user, _, _ = customer
    before = state(user)
    response = upload(auth_client(user), number=number)
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "validation_error",
                "message": "The request is invalid.",
                "details": {"number": [message]},
            }
        },
    )
    assert state(user) == before


def test_an_oversize_multipart_text_field_is_413(auth_client, customer):
    user, _, _ = customer
    before = state(user)
    response = upload(auth_client(user), number="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert state(user) == before


def test_too_many_multipart_fields_is_413(auth_client, customer):
    user, _, _ = customer
    before = state(user)
    extra = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = upload(auth_client(user), **extra)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert state(user) == before


@pytest.mark.parametrize("name", ["a\x00b.png", "../../etc/passwd.png", "\u202egnp.exe", "x" * 500])
def test_hostile_file_names_never_reach_the_storage(auth_client, customer, name):
    user, _, _ = customer
    file = SimpleUploadedFile(name, png(), "image/png")
    response = auth_client(user).post(
        "/api/v1/kyc/documents", {"type": "passport", "file": file}, format="multipart"
    )
    assert response.status_code in (201, 400), response.content
    for document in Document.objects.all():
        assert "\x00" not in document.file.name
        assert ".." not in document.file.name
        assert name not in document.file.name


# --- allauth's own JSON endpoints (the mobile app's login and sign-up) --------------------

ALLAUTH = "/_allauth/app/v1"


@pytest.mark.parametrize("path", ["/auth/login", "/auth/signup"])
@pytest.mark.parametrize(
    ("body", "status", "codes"),
    [
        ('{"email": "a\\u0000@x.com", "password": "pw-pw-pw-1"}', 400, None),
        ('{"email": "a@x.com", "password": "x\\u0000yz-pw-pw"}', 400, None),
        ('{"email": "a\\ud800@x.com", "password": "pw\\udfffpw-pw"}', 400, None),
        ('{"email": ' + "[" * 100_000 + "]" * 100_000 + "}", 400, ["invalid"]),
        (
            '{"email": "a@x.com", "password": "' + "x" * 3_000_000 + '"}',
            413,
            ["request_too_large"],
        ),
        ('{"email": "' + "x" * 100_000 + '@x.com", "password": "pw"}', 400, None),
    ],
)
def test_allauth_refuses_hostile_bodies_without_a_5xx(path, body, status, codes):
    response = Client().post(f"{ALLAUTH}{path}", body, content_type="application/json")
    assert response.status_code == status
    payload = response.json()
    assert payload["status"] == status
    if codes:
        assert [e["code"] for e in payload["errors"]] == codes
    assert not get_user_model().objects.filter(email__startswith="a").exists()


# --- funding sources (two-factor and a fresh login) and a transfer's destination ---------


@pytest.fixture
def strong_app():
    app = MobileClient()
    assert app.sign_up("fina@example.com").status_code == 200
    with_two_factor(app)
    return app


def funding_sources() -> list[tuple[str, str]]:
    return list(FundingSource.objects.values_list("holder_name", "iban_last4"))


def add_bank(app, **changes: Any):
    body = {"iban": iban(), "holder_name": "Fina Example", "currency": "EUR", **changes}
    return app.call("post", "/api/v1/funding-sources", body)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"holder_name": "F" * 141}, "holder_name", "no more than 140 characters."),
        ({"holder_name": "é" * 100_000}, "holder_name", "no more than 140 characters."),
        ({"iban": "DE" + "0" * 41}, "iban", "no more than 42 characters."),
    ],
)
def test_funding_source_text_limits(strong_app, changes, field, message):
    response = add_bank(strong_app, **changes)
    assert (response.status_code, response.body) == (
        400,
        {
            "error": {
                "code": "validation_error",
                "message": "The request is invalid.",
                "details": {field: [f"Ensure this field has {message}"]},
            }
        },
    )
    assert funding_sources() == []


@pytest.mark.parametrize("value", UNSTORABLE)
@pytest.mark.parametrize("field", ["holder_name", "iban"])
def test_funding_source_nul_and_surrogates(strong_app, field, value):
    response = strong_app.http.post(
        "/api/v1/funding-sources",
        json.dumps({"iban": iban(), "holder_name": "Fina", "currency": "EUR", field: value}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {strong_app.access}",
    )
    assert (response.status_code, response.json()) == (400, NUL_OR_SURROGATE)
    assert funding_sources() == []


@pytest.mark.parametrize(
    "digits",
    ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９"],  # Arabic-Indic and fullwidth digits
)
def test_an_iban_in_other_digits_is_invalid_not_a_second_copy(strong_app, digits):
    """int() reads any Unicode digit: such an IBAN passed the checksum, got its own fingerprint
    (so the same account could be linked twice) and went to the bank as non-ASCII."""
    assert add_bank(strong_app).status_code == 201
    before = funding_sources()
    lookalike = iban().translate(str.maketrans("0123456789", digits))
    response = add_bank(strong_app, iban=lookalike)
    assert (response.status_code, response.body["error"]["code"]) == (400, "invalid_iban")
    assert funding_sources() == before


def test_odd_holder_names_round_trip(strong_app):
    for n, text in enumerate(ODD_TEXT[:5]):
        response = add_bank(strong_app, iban=iban(f"{n + 1:04d}"), holder_name=text)
        assert response.status_code == 201, response.body
        assert response.body["holder_name"] == text
    assert sorted(name for name, _ in funding_sources()) == sorted(ODD_TEXT[:5])


@pytest.mark.parametrize("value", [*UNSTORABLE, "d" * 255, "é" * 100_000])
def test_a_transfer_destination_is_refused_cleanly(auth_client, customer, value):
    user, source, _ = customer
    before = state(user)
    body = {"source_wallet": str(source.pk), "destination": value, "amount": 5, "currency": "EUR"}
    response = auth_client(user).post(
        "/api/v1/transfers",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    expected = (
        NUL_OR_SURROGATE
        if value in UNSTORABLE
        else {
            "error": {
                "code": "validation_error",
                "message": "The request is invalid.",
                "details": {"destination": ["Ensure this field has no more than 254 characters."]},
            }
        }
    )
    assert (response.status_code, response.json()) == (400, expected)
    assert state(user) == before
