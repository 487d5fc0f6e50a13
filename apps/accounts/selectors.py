"""Public reads of apps.accounts."""

from dataclasses import dataclass

from apps.accounts.models import User


@dataclass(frozen=True)
class UserRef:
    id: int
    email: str
    display_name: str
    is_active: bool


def _ref(user: User) -> UserRef:
    name = f"{user.first_name} {user.last_name}".strip() or user.email.split("@")[0]
    return UserRef(user.pk, user.email, name, user.is_active)


def user_get(*, user_id: int) -> UserRef | None:
    user = User.objects.filter(pk=user_id).first()
    return _ref(user) if user else None


def user_find_by_email(*, email: str) -> UserRef | None:
    user = User.objects.filter(email__iexact=email.strip()).first()
    return _ref(user) if user else None


def users_by_id(*, user_ids: set[int]) -> dict[int, UserRef]:
    return {u.pk: _ref(u) for u in User.objects.filter(pk__in=user_ids)}
