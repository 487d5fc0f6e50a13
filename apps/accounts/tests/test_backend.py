"""The login backend's written-out user load (apps.accounts.backends)."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.backends import AuthenticationBackend

pytestmark = pytest.mark.django_db


def make(**fields):
    return get_user_model().objects.create_user(
        f"u{get_user_model().objects.count()}@finstack.test", "a long enough password", **fields
    )


def test_the_user_comes_whole_with_every_column_loaded():
    user = make(phone="+15555550100", language="de")
    loaded = AuthenticationBackend().get_user(str(user.pk))  # as the session stores it
    assert loaded.get_deferred_fields() == set()  # a column missing from the list shows here
    assert {f.attname: getattr(loaded, f.attname) for f in user._meta.concrete_fields} == {
        f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields
    }


def test_no_user_for_an_inactive_or_unknown_id():
    inactive = make(is_active=False)
    assert AuthenticationBackend().get_user(inactive.pk) is None
    assert AuthenticationBackend().get_user(inactive.pk + 1000) is None
