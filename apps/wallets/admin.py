"""Wallets in the back office: balances from the ledger, members, freeze/unfreeze with reason."""

from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.money import Money
from apps.ledger import selectors as ledger_selectors
from apps.wallets import services
from apps.wallets.models import Transfer, TransferReview, Wallet, WalletMember, WalletStatusChange


class MemberInline(admin.TabularInline):
    model = WalletMember
    fields = ("user", "role", "daily_limit", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatusChangeInline(admin.TabularInline):
    model = WalletStatusChange
    fk_name = "wallet"
    fields = ("created_at", "from_status", "to_status", "reason", "changed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Kept with the wallet's history.")


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "currency",
        "name",
        "status",
        "is_shared",
        "posted",
        "available",
        "created_at",
    )
    list_filter = ("status", "currency", "is_shared")
    search_fields = ("=id", "owner__email", "name")
    readonly_fields = (
        "id",
        "owner",
        "currency",
        "name",
        "status",
        "is_default",
        "is_shared",
        "ledger_account_id",
        "posted",
        "available",
        "created_at",
    )
    inlines = (MemberInline, StatusChangeInline)
    actions = ("freeze", "unfreeze")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="posted")
    def posted(self, obj: Wallet) -> str:
        money = ledger_selectors.account_balance(account_id=obj.ledger_account_id).posted
        return str(money)

    @admin.display(description="available")
    def available(self, obj: Wallet) -> str:
        money = ledger_selectors.account_balance(account_id=obj.ledger_account_id).available
        return str(money)

    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("wallets.change_wallet")

    @admin.action(description="Freeze (can receive, cannot send)", permissions=["freeze"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> HttpResponse | None:
        return self._set_status(request, queryset, "frozen")

    @admin.action(description="Unfreeze", permissions=["freeze"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> HttpResponse | None:
        return self._set_status(request, queryset, "active")

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Wallet], status: str
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():  # first step: ask for the reason
            return TemplateResponse(
                request,
                "admin/wallets/reason.html",
                {
                    **self.admin_site.each_context(request),
                    "form": form,
                    "wallets": queryset,
                    "action": request.POST["action"],
                    "selected": ACTION_CHECKBOX_NAME,
                    "title": f"Set {queryset.count()} wallet(s) to {status}",
                },
            )
        for wallet in queryset:
            services.wallet_set_status(
                wallet_id=wallet.pk,
                status=status,
                reason=form.cleaned_data["reason"],
                changed_by_id=request.user.pk,
            )
        self.message_user(request, f"{queryset.count()} wallet(s) now {status}.", messages.SUCCESS)
        return None


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "source_wallet",
        "destination_wallet",
        "amount_major",
        "fee",
        "requested_by",
        "created_at",
    )
    list_filter = ("currency", "created_at")
    search_fields = ("=id", "=ledger_transaction_id", "requested_by__email", "note")
    list_select_related = ("source_wallet", "destination_wallet", "requested_by")

    @admin.display(description="amount")
    def amount_major(self, obj: Transfer) -> str:
        return str(Money(obj.amount, obj.currency))


# Staff changes are logged with who, when and before/after (viewable by superusers).
@admin.register(TransferReview)
class TransferReviewAdmin(ReadOnlyAdmin):
    """Transfers the risk rules held: approve posts the held money, decline releases it."""

    list_display = ("created_at", "amount", "currency", "requested_by", "reasons", "state")
    list_filter = ("state",)
    actions = ("approve", "decline")

    def _decide(self, request: HttpRequest, queryset: QuerySet, approve: bool) -> None:
        for review in queryset.filter(state=TransferReview.State.PENDING).order_by("pk"):
            try:
                state = services.transfer_review_decide(
                    review_id=review.pk, staff_id=request.user.pk, approve=approve, note="admin"
                )
            except DomainError as error:  # a party to the transfer, a frozen wallet, ...
                self.message_user(request, f"{review.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{review.pk}: {state}")

    @admin.action(description="Approve: post the held transfer", permissions=["decide"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Decline: release the held money", permissions=["decide"])
    def decline(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, approve=False)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("wallets.change_transferreview")


auditlog.register(Wallet)
auditlog.register(WalletMember)
