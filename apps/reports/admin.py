from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ExportMixin, ImportExportModelAdmin

from apps.core.admin import ReadOnlyAdmin
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
    list_display = ("day", "clean", "summary", "started_at", "finished_at")
    list_filter = ("clean",)
    inlines = (BreakInline,)


@admin.register(Break)
class BreakAdmin(ExportMixin, admin.ModelAdmin):
    """Breaks are worked on here: status, who has it, what was found."""

    list_display = ("created_at", "kind", "reference", "status", "assigned_to")
    list_filter = ("status", "kind", "run__day")
    search_fields = ("reference",)
    readonly_fields = ("run", "kind", "reference", "detail", "created_at")
    fields = (*readonly_fields, "status", "assigned_to", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SettlementLine)
class SettlementLineAdmin(ImportExportModelAdmin):
    """A provider's settlement report uploaded as CSV/XLSX (previewed as a dry run first);
    reconciliation uses it instead of asking the provider for that day."""

    list_display = ("provider", "day", "reference", "direction", "amount", "currency")
    list_filter = ("provider", "day")
    search_fields = ("reference",)
