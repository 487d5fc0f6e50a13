import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.core.tests.urls")]


def error(response):
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def test_validation_error_names_the_fields(api_client):
    response = api_client.post("/api/v1/plumbing", {"amount": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "The request is invalid.",
            "details": {"amount": ["Ensure this value is greater than or equal to 1."]},
        }
    }


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.post(
        "/api/v1/plumbing", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "parse_error"


def test_domain_error_keeps_its_code_status_and_details(api_client):
    response = api_client.get("/api/v1/plumbing?fail=domain")
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "insufficient_funds",
            "message": "Not enough money.",
            "details": {"available": 5},
        }
    }


def test_django_validation_error_becomes_a_400(api_client):
    response = api_client.get("/api/v1/plumbing?fail=django_validation")
    assert response.status_code == 400
    assert error(response) == {
        "code": "validation_error",
        "message": "The request is invalid.",
        "details": {"email": ["Enter a valid email address."]},
    }


def test_unhandled_exception_is_a_json_500_without_internals(api_client, caplog):
    response = api_client.get("/api/v1/plumbing?fail=crash", HTTP_X_REQUEST_ID="req-crash-1")
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "error": {
            "code": "internal_error",
            "message": "An internal error occurred.",
            "details": {"request_id": "req-crash-1"},
        }
    }
    assert "secret internals" not in response.content.decode()
    assert "secret internals must not leak" in caplog.text  # logged for us, not shown to them


def test_unknown_api_path_is_a_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert error(response) == {"code": "not_found", "message": "Not found.", "details": {}}


def test_wrong_method_is_a_json_405(api_client):
    response = api_client.delete("/api/v1/plumbing")
    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"


def test_anonymous_on_private_endpoint_is_refused_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/private")
    assert response.status_code in (401, 403)
    assert error(response)["code"] == "not_authenticated"


def test_unsupported_media_type(api_client):
    response = api_client.post("/api/v1/plumbing", data="amount=1", content_type="text/plain")
    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"


def test_throttled_answers_429_with_retry_after(api_client, redis_server):
    cache.delete("throttle_tight_127.0.0.1")  # never clear(): it flushes the shared Redis
    for _ in range(2):
        assert api_client.get("/api/v1/throttled").status_code == 200
    response = api_client.get("/api/v1/throttled")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = error(response)
    assert body["code"] == "throttled"
    assert body["details"]["retry_after"] == int(response["Retry-After"])
    # The counter lives in the real Redis: another process would see it too.
    assert any(b"throttle_tight" in key for key in redis_server.keys("*throttle_tight*"))
