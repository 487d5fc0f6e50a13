"""The login backend: allauth's, with the per-request user load written out.

Every authenticated request loads its user by id (Django's session check): the ORM's query
compilation cost more CPU than the query itself (docs/performance.md).
The JWT check reads the user with its session in one statement (`apps.accounts.sessions`)
and hands the row over through `preload`.
A login session names its backend: a session made under another backend than this one is not
accepted, and its user logs in again.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.db import connections, router

from apps.accounts.models import User

# Every column of User (a test keeps this list complete: a missing one would load lazily).
FIELDS = [
    "id",
    "password",
    "last_login",
    "is_superuser",
    "first_name",
    "last_name",
    "is_staff",
    "is_active",
    "date_joined",
    "email",
    "default_currency",
    "language",
    "phone",
    "phone_verified",
    "closed_at",
]


_preloaded: ContextVar[User | None] = ContextVar("preloaded_user", default=None)


def preload(user: User | None) -> None:
    """The user row the next `get_user` for its id takes instead of reading it (None: clear)."""
    _preloaded.set(user)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> User | None:
        pk = User._meta.pk.to_python(user_id)
        user = _preloaded.get()
        if user is not None and user.pk == pk:
            _preloaded.set(None)  # used once: a later load in this context reads afresh
            return user if self.user_can_authenticate(user) else None
        alias = router.db_for_read(User)
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT id, password, last_login, is_superuser, first_name, last_name, is_staff,"
                " is_active, date_joined, email, default_currency, language, phone,"
                " phone_verified, closed_at FROM accounts_user WHERE id = %s",
                [pk],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        user = User.from_db(alias, FIELDS, row)
        return user if self.user_can_authenticate(user) else None
