"""django-axes for the admin only: customers' logins are rate limited by allauth, and axes
would otherwise count (and lock with an HTML page) API logins too, despite
AXES_ONLY_ADMIN_SITE, which it applies only when checking."""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler


class AdminLoginHandler(AxesDatabaseHandler):
    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kw: Any):
        if request is not None and self.is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kw)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)
