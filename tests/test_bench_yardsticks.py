"""The API benchmark's yardsticks (bench/bench_urls.py) do what its layer table says they do:
the bare one needs no token, the authenticated one the API's token and nothing more, the
idempotent one also a key, and neither moves money. A change that breaks one shows here, not
halfway through a benchmark run."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts.tests.mobile import access_token
from apps.core.models import IdempotencyRecord
from apps.wallets.models import Transfer

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.bench_urls")]


@pytest.fixture
def user():
    return get_user_model().objects.create_user("bench@example.com", "a long enough password")


def _post(path: str, token: str | None, key: str | None = None, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    body = body or {
        "source_wallet": str(uuid.uuid4()),
        "destination": str(uuid.uuid4()),
        "amount": 1,
        "currency": "EUR",
    }
    return APIClient().post(path, body, format="json", **headers)


def test_the_bare_endpoint_reads_one_user_without_a_token(user):
    response = APIClient().get(f"/bench/bare?id={user.pk}")
    assert response.status_code == 200
    assert response.json() == {"pk": user.pk, "email": "bench@example.com"}


def test_the_authenticated_endpoint_takes_the_apis_token(user):
    assert _post(f"/bench/authenticated?id={user.pk}", None).status_code == 401
    response = _post(f"/bench/authenticated?id={user.pk}", access_token(user))
    assert response.status_code == 200
    assert response.json() == {"pk": user.pk, "email": "bench@example.com"}


def test_the_idempotent_endpoint_keeps_an_answer_and_moves_nothing(user):
    token, path = access_token(user), f"/bench/idempotent?id={user.pk}"
    refused = _post(path, token)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "idempotency_key_required"
    invalid = _post(path, token, "k1", {"amount": "ten"})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "validation_error"

    body = {"source_wallet": str(uuid.uuid4()), "destination": "x", "amount": 1, "currency": "EUR"}
    first = _post(path, token, "k2", body)
    again = _post(path, token, "k2", body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"pk": user.pk, "email": "bench@example.com"}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.filter(user_id=user.pk, key="k2").count() == 1
    assert not Transfer.objects.exists()
