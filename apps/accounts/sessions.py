"""Django's database sessions, with the per-request load written out.

Every request of a mobile client reads its login session (the JWT's stateful check): the
ORM's query compilation cost more CPU than the query itself (docs/performance.md). Same
table and rows as Django's database backend.

Inside `loading_user(user_id)` (the JWT check, which knows the user from the token) the same
statement also reads that user's row, and the login backend takes it from there instead of a
second round trip. The row only saves the query: Django's `get_user` still checks it against
the session (its user id, backend and password hash) as it would a row it had read itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from apps.accounts import backends
from apps.accounts.models import User

_user_to_load: ContextVar[int | None] = ContextVar("session_user_to_load", default=None)


@contextmanager
def loading_user(user_id: int) -> Iterator[None]:
    """Session loads within also read this user's row (handed to the login backend)."""
    token = _user_to_load.set(user_id)
    try:
        yield
    finally:
        _user_to_load.reset(token)
        backends.preload(None)


class SessionStore(db.SessionStore):
    # Set on the login session behind mobile tokens (apps.accounts.token_keys).
    keeps_key = False

    def cycle_key(self) -> None:
        """Django cycles the key of a session whose password hash a SECRET_KEY_FALLBACKS
        secret verified. Mobile tokens name the key, so a login session behind them keeps it
        (a new key would log the app out) and stores the new hash at once
        (`token_keys.token_user`). Logins still cycle: their session never has `keeps_key`."""
        if not self.keeps_key:
            super().cycle_key()

    def _get_session_from_db(self) -> Any:
        model = self.model
        alias = router.db_for_read(model)
        user_id = _user_to_load.get()
        with connections[alias].cursor() as cursor:
            if user_id is None:
                cursor.execute(
                    "SELECT session_data, expire_date FROM django_session"
                    " WHERE session_key = %s AND expire_date > %s",
                    [self.session_key, timezone.now()],
                )
            else:  # the columns of backends.FIELDS, in its order
                cursor.execute(
                    "SELECT s.session_data, s.expire_date, u.id, u.password, u.last_login,"
                    " u.is_superuser, u.first_name, u.last_name, u.is_staff, u.is_active,"
                    " u.date_joined, u.email, u.default_currency, u.language, u.phone,"
                    " u.phone_verified, u.closed_at FROM django_session s"
                    " LEFT JOIN accounts_user u ON u.id = %s"
                    " WHERE s.session_key = %s AND s.expire_date > %s",
                    [user_id, self.session_key, timezone.now()],
                )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as the ORM version does for a missing or expired one
            return None
        # The session's two columns, then (when a user was asked for) backends.FIELDS; the
        # user's columns are all None if the LEFT JOIN found no such user.
        session_data, expire_date, *user_columns = row
        if user_columns and user_columns[0] is not None:
            backends.preload(User.from_db(alias, backends.FIELDS, user_columns))
        # A row was found by this key, so it is a str here.
        key = cast(str, self.session_key)
        return model(session_key=key, session_data=session_data, expire_date=expire_date)
