from apps.accounts.events import UserCreated
from apps.core.events import subscribe
from apps.wallets import services


@subscribe(UserCreated)
def on_user_created(event: UserCreated) -> None:
    services.default_wallet_ensure(owner_id=event.user_id, currency=event.default_currency)
