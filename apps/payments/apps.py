from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.payments"

    def ready(self) -> None:
        from apps.accounts import services as accounts_services
        from apps.payments import (
            services,
            tasks,  # noqa: F401 - services queue them by name
        )

        accounts_services.closure_check_register(services.no_payment_in_flight)
