"""The JWT check reads the login session and its user in one statement, and still refuses
every token whose session and user do not agree (apps.accounts.authentication)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.tests.mobile import MobileClient, access_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> MobileClient:
    client = MobileClient()
    assert client.sign_up("jo@example.com").status_code == 200
    assert client.call("get", "/api/v1/me").status_code == 200  # first-use lookups
    return client


def test_a_request_reads_its_session_and_user_in_one_statement(app):
    with CaptureQueriesContext(connection) as captured:
        response = app.call("get", "/api/v1/wallets")  # reads no user row of its own
    assert response.status_code == 200
    assert [w["currency"] for w in response.body["results"]] == ["EUR"]
    loads = [q["sql"] for q in captured.captured_queries if "password" in q["sql"]]  # user rows
    assert len(loads) == 1, loads
    assert "FROM django_session s LEFT JOIN accounts_user" in loads[0]


def _me(token: str):
    return APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def make_user(email: str):
    return get_user_model().objects.create_user(email, "a long enough password")


def test_a_token_whose_session_is_another_users_is_refused():
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    assert _me(access_token(ann, ann)).status_code == 200  # the control: a matching pair passes
    refused = _me(access_token(ann, bob))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_the_preloaded_user_is_still_checked_against_the_session():
    ann = make_user("ann@example.com")
    token = access_token(ann, ann)
    ann.set_password("another long password")  # the session's password hash no longer holds
    ann.save()
    assert _me(token).status_code == 401
    cid = make_user("cid@example.com")
    token = access_token(cid, cid)
    get_user_model().objects.filter(pk=cid.pk).update(is_active=False)
    assert _me(token).status_code == 401


def test_the_user_read_with_the_session_comes_whole_without_a_query_of_its_own():
    from apps.accounts import backends, sessions

    ann = get_user_model().objects.create_user(
        "ann@example.com", "a long enough password", phone="+15555550100", language="de"
    )
    stored = SessionStore()
    stored["_auth_user_id"] = str(ann.pk)
    stored.create()
    with sessions.loading_user(ann.pk):
        sessions.SessionStore(stored.session_key).load()
        with CaptureQueriesContext(connection) as captured:
            loaded = backends.AuthenticationBackend().get_user(str(ann.pk))
    assert captured.captured_queries == []  # the row came with the session
    assert loaded.get_deferred_fields() == set()  # a column missing from the SQL shows here
    assert {f.attname: getattr(loaded, f.attname) for f in ann._meta.concrete_fields} == {
        f.attname: getattr(ann, f.attname) for f in ann._meta.concrete_fields
    }
