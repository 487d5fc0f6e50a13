"""One API document: allauth's endpoints merged into /api/schema/."""

from collections import Counter

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_allauth_paths_join_ours_with_operation_ids(schema):
    paths = schema["paths"]
    for path in (
        "/_allauth/app/v1/auth/signup",
        "/_allauth/app/v1/auth/email/verify",
        "/_allauth/app/v1/tokens/refresh",
        "/_allauth/app/v1/auth/2fa/authenticate",
        "/_allauth/app/v1/account/authenticators/totp",
        "/_allauth/app/v1/auth/sessions",
        "/api/v1/me",
        "/api/v1/transfers",
    ):
        assert path in paths, path
    ids = [
        op["operationId"] for item in paths.values() for op in item.values() if "responses" in op
    ]
    assert not [i for i, n in Counter(ids).items() if n > 1]
    assert paths["/_allauth/app/v1/auth/login"]["post"]["operationId"] == "allauth_auth_login_post"


def test_allauth_references_resolve_to_prefixed_components(schema):
    login = schema["paths"]["/_allauth/app/v1/auth/login"]["post"]
    ref = login["requestBody"]["$ref"]
    assert ref == "#/components/requestBodies/AllauthLogin"
    assert "AllauthLogin" in schema["components"]["requestBodies"]


def test_money_out_error_codes_are_documented(schema):
    me_close = schema["paths"]["/api/v1/me/close"]["post"]["responses"]
    codes = me_close["409"]["content"]["application/json"]["schema"]["properties"]["error"]
    assert set(codes["properties"]["code"]["enum"]) == {
        "account_not_empty",
        "account_busy",
        "account_closed",
    }


def test_docs_page_and_schema_are_served(client):
    assert client.get("/api/docs/").status_code == 200
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/_allauth/app/v1/auth/login" in response.json()["paths"]
