"""Events apps.accounts publishes."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class UserCreated(Event):
    name = "accounts.user_created"
    user_id: int
    email: str
    default_currency: str


@dataclass(frozen=True)
class NewDeviceLogin(Event):
    name = "accounts.new_device_login"
    user_id: int
    device: str
    ip: str


@dataclass(frozen=True)
class PasswordChanged(Event):
    name = "accounts.password_changed"
    user_id: int
    how: str  # "change" or "reset"


@dataclass(frozen=True)
class MfaChanged(Event):
    name = "accounts.mfa_changed"
    user_id: int
    change: str  # "totp_activated", "totp_deactivated", "recovery_codes_regenerated"...


@dataclass(frozen=True)
class UserClosed(Event):
    name = "accounts.user_closed"
    user_id: int
