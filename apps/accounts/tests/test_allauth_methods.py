import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("client_kind", ["app", "browser"])
@pytest.mark.parametrize("method", ["put", "patch", "delete", "options", "trace", "head"])
def test_phone_endpoint_refuses_other_methods_with_405_not_500(client_kind, method):
    response = getattr(Client(raise_request_exception=False), method)(
        f"/_allauth/{client_kind}/v1/account/phone"
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    if method != "head":
        assert response.json() == {
            "status": 405,
            "errors": [{"code": "method_not_allowed", "message": "Method not allowed."}],
        }


def test_phone_endpoint_still_answers_get_signed_out():
    response = Client().get("/_allauth/browser/v1/account/phone")
    assert response.status_code == 401
