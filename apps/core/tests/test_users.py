import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from apps.core.users import request_user_id


@pytest.mark.django_db
def test_a_signed_in_request_gives_its_user_id():
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.create_user("who@finstack.test", "pw")
    assert request_user_id(request) == request.user.pk


def test_an_anonymous_request_is_refused_not_passed_on_as_none():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        request_user_id(request)
