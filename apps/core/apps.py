from typing import Any

from django.apps import AppConfig
from django.core.signals import request_finished


def _forget_request_id(**kwargs: Any) -> None:
    from apps.core import context

    context.request_id.set("-")


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"

    def ready(self) -> None:
        request_finished.connect(_forget_request_id, dispatch_uid="core.forget_request_id")
        # Here, not at the top: these import models, which need the app registry ready.
        import apps.core.tasks  # noqa: F401  core sends its tasks by name: register them
        from apps.core import deliveries, events

        deliveries.on_dead_letter(events.publish_dead_letter)
