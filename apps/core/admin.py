"""Admin pieces every app uses."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.models import DeadLetter, IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """For history (ledger entries, transfers, idempotency records): look, never touch."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user_id", "endpoint", "state", "response_status", "created_at")
    list_filter = ("state", "response_status")
    search_fields = ("key", "=user_id")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Task messages taken out of circulation (apps.core.deliveries): read, then act by hand."""

    list_display = ("created_at", "task", "reason", "deliveries", "task_id")
    list_filter = ("reason", "task")
    search_fields = ("task_id", "task")
    readonly_fields = (
        "task_id",
        "task",
        "args",
        "kwargs",
        "reason",
        "deliveries",
        "last_error",
        "created_at",
    )
