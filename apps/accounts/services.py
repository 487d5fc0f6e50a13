"""Public writes of apps.accounts: other apps use only services, selectors and events."""

from django.db import transaction

from apps.accounts.events import UserCreated
from apps.accounts.models import User
from apps.core.events import publish


@transaction.atomic
def user_create(
    *, email: str, password: str | None, default_currency: str = "EUR", **fields: object
) -> int:
    """Create a user and announce it (a default wallet and a welcome message hang off it)."""
    user = User.objects.create_user(email=email, password=password, **fields)
    publish(UserCreated(user_id=user.pk, email=user.email, default_currency=default_currency))
    return int(user.pk)
