from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.webhooks"

    def ready(self) -> None:
        from apps.webhooks import (
            handlers,  # noqa: F401 - subscribes to the catalogue's events
            tasks,  # noqa: F401 - services queue them by name
        )
