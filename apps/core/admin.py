"""Admin pieces every app uses."""

from typing import Any

from auditlog.registry import auditlog
from django.contrib import admin
from django.http import HttpRequest

from apps.core import batch, risk
from apps.core.models import DeadLetter, IdempotencyRecord, JobFailure, RiskLimit


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


@admin.register(JobFailure)
class JobFailureAdmin(ReadOnlyAdmin):
    """Records a beat job could not process (apps.core.batch); the job went on without them."""

    list_display = ("last_failed_at", "job", "item", "attempts", "resolved_at")
    list_filter = ("job", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("item", "job")
    readonly_fields = (
        "job",
        "item",
        "error",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "resolved_at",
    )
    actions = ("retry_now",)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.change_jobfailure")

    @admin.action(description="Retry now (the cause is fixed)", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: Any) -> None:
        for failure_id in queryset.filter(resolved_at__isnull=True).values_list("pk", flat=True):
            batch.failure_retry(failure_id=failure_id)
        self.message_user(request, "The next run of each job takes these records again.")


@admin.register(RiskLimit)
class RiskLimitAdmin(admin.ModelAdmin):
    """Compliance sets the risk thresholds here; each change is in the staff log (before and
    after). Without a row, a currency uses settings.PAYMENTS_RISK."""

    list_display = ("currency", "review", "deny", "review_per_day", "max_per_hour", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        risk.forget()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        risk.forget()


auditlog.register(RiskLimit)
