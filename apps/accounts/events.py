"""Events apps.accounts publishes."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class UserCreated(Event):
    name = "accounts.user_created"
    user_id: int
    email: str
    default_currency: str
