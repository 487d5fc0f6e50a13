from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ExportMixin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.exports import SafeExportMixin
from apps.payments import services
from apps.payments.models import (
    FundingSource,
    ManualAction,
    Payment,
    PaymentEvent,
    RiskReview,
    WebhookEvent,
)


class TimelineInline(admin.TabularInline):
    """One timeline: states, saga steps, provider calls, webhooks, ledger postings."""

    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "from_state", "to_state", "cause", "data")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(SafeExportMixin, ExportMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "direction",
        "amount",
        "currency",
        "state",
        "step",
        "needs_attention",
        "provider",
    )
    list_filter = ("state", "direction", "provider", "needs_attention", "step")
    search_fields = ("=id", "user__email", "provider_ref")
    date_hierarchy = "created_at"
    inlines = (TimelineInline,)
    actions = ("retry_now", "propose_compensation")

    @admin.action(description="Run overdue work now (re-send the request or poll the bank)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for payment in queryset.filter(state="processing"):
            services.step_retry_now(payment_id=payment.pk)
        self.message_user(request, "Queued.")

    @admin.action(description="Propose compensation (cancel at the bank, release the hold)")
    def propose_compensation(self, request: HttpRequest, queryset: QuerySet) -> None:
        for payment in queryset:
            try:
                services.compensation_propose(
                    payment_id=payment.pk, staff_id=request.user.pk, reason="stuck saga (admin)"
                )
            except DomainError as error:
                self.message_user(request, f"{payment.pk}: {error.message}", messages.ERROR)
        self.message_user(request, "Proposed: another staff member must approve it.")


@admin.register(ManualAction)
class ManualActionAdmin(ReadOnlyAdmin):
    list_display = ("proposed_at", "payment", "action", "proposed_by", "approved_by", "outcome")
    list_filter = ("action",)
    actions = ("approve",)

    @admin.action(description="Approve and run", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        for action in queryset.filter(executed_at__isnull=True):
            try:
                outcome = services.compensation_approve(
                    action_id=action.pk, staff_id=request.user.pk
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"{action.payment_id}: {outcome}")

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.approve_manualaction")


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "payment", "reasons", "decision", "decided_by")
    list_filter = ("decision",)
    actions = ("approve", "reject")

    def _decide(self, request: HttpRequest, queryset: QuerySet, approve: bool) -> None:
        for review in queryset.filter(decision="pending"):
            try:
                services.review_decide(
                    payment_id=review.payment_id,
                    staff_id=request.user.pk,
                    approve=approve,
                    note="admin",
                )
            except DomainError as error:  # e.g. staff deciding their own payment
                self.message_user(request, f"{review.payment_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{review.payment_id}: decided.")

    @admin.action(description="Approve: let the payment proceed", permissions=["decide"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject: cancel it and release the money", permissions=["decide"])
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, approve=False)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_riskreview")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "event_type", "event_id", "payment_id", "outcome")
    list_filter = ("provider", "event_type")
    search_fields = ("event_id", "=payment_id")


@admin.register(FundingSource)
class FundingSourceAdmin(ReadOnlyAdmin):
    list_display = ("user", "holder_name", "iban_last4", "currency", "provider", "removed_at")
    search_fields = ("user__email", "holder_name")
