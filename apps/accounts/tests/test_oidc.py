"""Enterprise sign-in through an OpenID Connect IdP (e.g. a Keycloak realm), against a fake IdP:
only the IdP's HTTP is faked; allauth, the database and our event are real."""

import importlib
import json
import time
import uuid

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from apps.accounts.tests.mobile import MobileClient
from apps.core.models import OutboxEvent

pytestmark = pytest.mark.django_db
ISSUER = "https://idp.example.com/realms/finstack"
CLIENT_ID = "finstack-app"


class FakeIdP:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def id_token(self, sub: str, email: str, key: object = None, **claims: object) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": sub,
            "email": email,
            "email_verified": True,
            "given_name": "Ida",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def idp(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "keycloak",
                    "name": "Company sign-in",
                    "client_id": CLIENT_ID,
                    "secret": "s3cret",
                    "settings": {"server_url": ISSUER},
                }
            ]
        }
    }
    fake = FakeIdP()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.get(
            f"{ISSUER}/.well-known/openid-configuration",
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
                "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
                "userinfo_endpoint": f"{ISSUER}/protocol/openid-connect/userinfo",
                "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
            },
        )
        http.get(f"{ISSUER}/protocol/openid-connect/certs", json=fake.jwks)
        yield fake


def sign_in(app: MobileClient, id_token: str) -> object:
    return app.call(
        "post",
        "/auth/provider/token",
        {
            "provider": "keycloak",
            "process": "login",
            "token": {"client_id": CLIENT_ID, "id_token": id_token},
        },
    )


def test_the_provider_is_offered(idp):
    config = MobileClient().call("get", "/config").body["data"]
    providers = config["socialaccount"]["providers"]
    assert [(p["id"], p["name"]) for p in providers] == [("keycloak", "Company sign-in")]


def test_an_idp_id_token_signs_up_and_gets_our_tokens(idp):
    app = MobileClient()
    response = sign_in(app, idp.id_token("u-1", "ida@corp.example"))
    assert response.status_code == 200, response.body
    me = app.call("get", "/api/v1/me")
    assert me.status_code == 200
    assert me.body["email"] == "ida@corp.example"
    assert OutboxEvent.objects.filter(
        type="accounts.user_created", payload__email="ida@corp.example"
    ).exists()
    again = MobileClient()
    assert sign_in(again, idp.id_token("u-1", "ida@corp.example")).status_code == 200
    assert get_user_model().objects.filter(email="ida@corp.example").count() == 1


@pytest.mark.parametrize(
    "forgery",
    ["wrong_key", "wrong_audience", "expired"],
)
def test_a_forged_id_token_is_refused(idp, forgery):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "wrong_key": lambda: idp.id_token("u-2", "eve@corp.example", key=other_key),
        "wrong_audience": lambda: idp.id_token("u-2", "eve@corp.example", aud="another-app"),
        "expired": lambda: idp.id_token("u-2", "eve@corp.example", exp=int(time.time()) - 60),
    }[forgery]()
    app = MobileClient()
    response = sign_in(app, token)
    assert response.status_code == 400
    assert response.body["errors"][0]["code"] == "invalid_token"
    assert app.access is None
    assert not get_user_model().objects.filter(email="eve@corp.example").exists()


def test_env_vars_configure_the_provider(monkeypatch):
    monkeypatch.setenv("OIDC_CLIENT_ID", "finstack-app")
    monkeypatch.setenv("OIDC_SERVER_URL", ISSUER)
    monkeypatch.setenv("OIDC_PROVIDER_ID", "keycloak")
    from finstack.settings import auth

    try:
        configured = importlib.reload(auth).SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    finally:
        monkeypatch.delenv("OIDC_CLIENT_ID")
        importlib.reload(auth)
    assert configured["client_id"] == "finstack-app"
    assert configured["settings"] == {"server_url": ISSUER}
