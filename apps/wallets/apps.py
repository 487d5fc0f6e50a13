from django.apps import AppConfig


class WalletsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.wallets"

    def ready(self) -> None:
        from apps.accounts import services as accounts_services
        from apps.wallets import (
            handlers,  # noqa: F401 - registers the event handlers
            services,
        )

        accounts_services.closure_check_register(services.owner_wallets_close)
        from apps.kyc import selectors as kyc_selectors
        from apps.wallets import selectors

        kyc_selectors.usage_provider_register(selectors.spending_of)
