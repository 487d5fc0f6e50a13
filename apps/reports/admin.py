from typing import Any

from auditlog.registry import auditlog
from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ExportMixin, ImportExportModelAdmin

from apps.core.admin import ReadOnlyAdmin
from apps.core.exports import SafeExportMixin
from apps.core.users import request_user_id
from apps.reports import services
from apps.reports.models import Break, ReconciliationRun, SettlementLine


class BreakInline(admin.TabularInline):
    model = Break
    extra = 0
    can_delete = False
    fields = ("kind", "reference", "detail", "status", "assigned_to")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("day", "is_clean", "summary", "started_at", "finished_at")
    list_filter = ("is_clean",)
    inlines = (BreakInline,)


@admin.register(Break)
# import-export's mixins and django-stubs type model and templates differently.
class BreakAdmin(SafeExportMixin, ExportMixin, admin.ModelAdmin):  # type: ignore[misc]
    """Breaks are worked on here: status, who has it, what was found."""

    list_display = ("created_at", "kind", "reference", "status", "assigned_to")
    list_filter = ("status", "kind", "run__day")
    search_fields = ("reference",)
    # Whoever changes a break is the one it is assigned to (services.break_update).
    readonly_fields = ("run", "kind", "reference", "detail", "created_at", "assigned_to")
    fields = (*readonly_fields, "status", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Break, form: Any, change: bool) -> None:
        # Through the service, so the change and its staff-log entry commit together.
        services.break_update(
            break_id=obj.pk, status=obj.status, staff_id=request_user_id(request), note=obj.note
        )


@admin.register(SettlementLine)
# import-export's mixins and django-stubs type model and templates differently.
class SettlementLineAdmin(SafeExportMixin, ImportExportModelAdmin):  # type: ignore[misc]
    """A provider's settlement report uploaded as CSV/XLSX (previewed as a dry run first);
    reconciliation uses it instead of asking the provider for that day."""

    list_display = ("provider", "day", "reference", "direction", "amount", "currency")
    list_filter = ("provider", "day")
    search_fields = ("reference",)

    # Uploaded lines are evidence reconciliation compares against: never edited or deleted
    # (a trigger refuses it too); a correction is uploaded as a new line.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Who resolved, reassigned or annotated a break, and from what to what.
auditlog.register(Break, include_fields=["status", "assigned_to", "note"])
