"""The signed-in person behind a request, as the int id services take."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def request_user_id(request: HttpRequest) -> int:
    """Views and admin actions run behind a login check, so an anonymous caller means a
    view lost its permission class: refuse (403) rather than pass None to a service."""
    pk = request.user.pk
    if pk is None:
        raise PermissionDenied
    return int(pk)
