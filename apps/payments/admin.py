from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST
from import_export.admin import ExportMixin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.exports import SafeExportMixin
from apps.core.users import request_user_id
from apps.payments import selectors, services
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


class ResolutionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a.value, a.label) for a in ManualAction.Action if a in services.RESOLUTIONS]
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


@admin.register(Payment)
class PaymentAdmin(SafeExportMixin, ExportMixin, ReadOnlyAdmin):  # type: ignore[misc]
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
    change_form_template = "admin/payments/payment/change_form.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """What the bank says next to what we booked. The provider is asked here, before
        the admin opens its transaction for the form."""
        payment = self.get_object(request, object_id)
        if payment is not None and self.has_view_permission(request, payment):
            extra_context = {
                **(extra_context or {}),
                "bank_status": selectors.bank_status(payment=payment),
                "webhooks": selectors.payment_webhooks(payment_id=payment.pk),
                "bookings": selectors.payment_bookings(payment=payment),
                "resolutions": payment.manual_actions.order_by("-proposed_at"),
                "resolution_form": ResolutionForm()
                if payment.needs_attention and request.user.has_perm("payments.add_manualaction")
                else None,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        resolve = self.admin_site.admin_view(require_POST(self.resolve_view))
        return [
            path("<path:object_id>/resolve/", resolve, name="payments_payment_resolve"),
            *super().get_urls(),
        ]

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Propose a resolution with a note; a second staff member approves it (ManualAction)."""
        if not request.user.has_perm("payments.add_manualaction"):
            raise PermissionDenied
        payment = self.get_object(request, object_id)
        if payment is None:
            raise Http404
        back = reverse("admin:payments_payment_change", args=[payment.pk])
        form = ResolutionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Choose a resolution and say why.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            services.resolution_propose(
                payment_id=payment.pk,
                staff_id=request_user_id(request),
                action=form.cleaned_data["action"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            self.message_user(request, f"{error.message} {error.details}", messages.ERROR)
        else:
            self.message_user(request, "Proposed: another staff member must approve it.")
        return HttpResponseRedirect(back)

    @admin.action(description="Run overdue work now (re-send the request or poll the bank)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for payment in queryset.filter(state="processing"):
            services.step_retry_now(payment_id=payment.pk)
        self.message_user(request, "Queued.")

    @admin.action(description="Propose compensation (cancel at the bank, release the hold)")
    def propose_compensation(self, request: HttpRequest, queryset: QuerySet) -> None:
        staff_id = request_user_id(request)
        for payment in queryset:
            try:
                services.compensation_propose(
                    payment_id=payment.pk,
                    staff_id=staff_id,
                    reason="stuck saga (admin)",
                )
            except DomainError as error:
                self.message_user(request, f"{payment.pk}: {error.message}", messages.ERROR)
        self.message_user(request, "Proposed: another staff member must approve it.")


@admin.register(ManualAction)
class ManualActionAdmin(ReadOnlyAdmin):
    list_display = (
        "proposed_at",
        "payment",
        "action",
        "reason",
        "proposed_by",
        "approved_by",
        "outcome",
    )
    list_filter = ("action",)
    actions = ("approve",)

    @admin.action(description="Approve and run", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        staff_id = request_user_id(request)
        for action in queryset.filter(executed_at__isnull=True):
            try:
                outcome = services.manual_action_approve(action_id=action.pk, staff_id=staff_id)
            except DomainError as error:
                self.message_user(request, f"{action.pk}: {error.message}", messages.ERROR)
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
        staff_id = request_user_id(request)
        for review in queryset.filter(decision="pending"):
            try:
                services.review_decide(
                    payment_id=review.payment_id,
                    staff_id=staff_id,
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
