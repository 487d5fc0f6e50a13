"""Hostile multipart and form bodies. Money endpoints read JSON only: any other media type is
415 before an idempotency record is claimed (a NUL in a multipart field used to reach the
record's jsonb and answer 500). Endpoints that do take multipart (KYC documents) refuse NUL in
a field name or value with 400 before anything is stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.kyc.models import Document
from apps.kyc.tests.factories import png
from apps.ledger import selectors as ledger_selectors
from apps.ledger.models import Entry, Hold, Transaction
from apps.payments.models import Payment
from apps.payments.tests.factories import bank_account
from apps.wallets.models import Transfer
from apps.wallets.tests.factories import make_wallet

pytestmark = pytest.mark.django_db

UNSUPPORTED = {
    "error": {
        "code": "unsupported_media_type",
        "message": "This media type is not accepted here.",
        "details": {},
    }
}


def stored() -> tuple:
    """Every row a refused request might have written."""
    return (
        [(row.debits, row.credits) for row in ledger_selectors.trial_balance()],
        Transaction.objects.count(),
        Entry.objects.count(),
        Hold.objects.count(),
        OutboxEvent.objects.count(),
        Transfer.objects.count(),
        Payment.objects.count(),
        Document.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def money_bodies():
    source, target = make_wallet(funded=1_000), make_wallet()
    funding = bank_account(source.owner)
    return source.owner, {
        "/api/v1/transfers": {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": "100",
            "currency": "EUR",
        },
        "/api/v1/deposits": {
            "wallet": str(source.pk),
            "funding_source": str(funding.pk),
            "amount": "100",
            "currency": "EUR",
        },
    }


def hostile(body: dict[str, str], where: str) -> dict[str, str]:
    if where == "name":
        return {**body, "cur\x00rency": "EUR"}
    return {**body, "currency": "EU\x00R"}


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/deposits"])
@pytest.mark.parametrize("where", ["name", "value"])
def test_a_multipart_money_post_is_415_and_stores_nothing(auth_client, money_bodies, path, where):
    user, bodies = money_bodies
    before = stored()
    response = auth_client(user).post(
        path, hostile(bodies[path], where), format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (response.status_code, response.json()) == (415, UNSUPPORTED)
    assert stored() == before


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/deposits"])
@pytest.mark.parametrize("where", ["name", "value"])
def test_a_form_money_post_is_415_and_stores_nothing(auth_client, money_bodies, path, where):
    user, bodies = money_bodies
    before = stored()
    response = auth_client(user).post(
        path,
        urlencode(hostile(bodies[path], where)),
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert (response.status_code, response.json()) == (415, UNSUPPORTED)
    assert stored() == before


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/deposits"])
def test_a_clean_multipart_money_post_is_415_too(auth_client, money_bodies, path):
    user, bodies = money_bodies
    before = stored()
    response = auth_client(user).post(
        path, bodies[path], format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (response.status_code, response.json()) == (415, UNSUPPORTED)
    assert stored() == before


def upload(client, **fields: str):
    data = {"type": "passport", "file": SimpleUploadedFile("id.png", png(), "image/png"), **fields}
    return client.post("/api/v1/kyc/documents", data, format="multipart")


def test_a_nul_in_a_multipart_field_name_is_400_and_stores_nothing(auth_client):
    user = make_wallet().owner
    before = stored()
    response = upload(auth_client(user), **{"no\x00te": "x"})
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "validation_error",
                "message": "The request is invalid.",
                "details": {
                    "non_field_errors": [
                        "Field names may not contain null characters or unpaired surrogates."
                    ]
                },
            }
        },
    )
    assert stored() == before


def test_a_nul_in_any_multipart_value_is_400_and_stores_nothing(auth_client):
    user = make_wallet().owner
    before = stored()
    response = upload(auth_client(user), note="a\x00b")  # a field the view does not read
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "validation_error",
                "message": "The request is invalid.",
                "details": {"note": ["Null characters are not allowed."]},
            }
        },
    )
    assert stored() == before


def test_a_clean_upload_still_works(auth_client):
    user = make_wallet().owner
    assert upload(auth_client(user), number="P123").status_code == 201


def test_the_schema_documents_json_only_and_415_for_money_posts():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/transfers", "/api/v1/deposits", "/api/v1/withdrawals"):
        operation = schema["paths"][path]["post"]
        assert list(operation["requestBody"]["content"]) == ["application/json"]
        enum = operation["responses"]["415"]["content"]["application/json"]["schema"]
        assert enum["properties"]["error"]["properties"]["code"]["enum"] == [
            "unsupported_media_type"
        ]
