from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.payments"

    def ready(self) -> None:
        from apps.payments import tasks  # noqa: F401 - services queue them by name
