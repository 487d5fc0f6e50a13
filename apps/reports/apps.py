from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.reports"

    def ready(self) -> None:
        from apps.reports import handlers  # noqa: F401 - read models follow the ledger
