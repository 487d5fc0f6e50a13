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
from apps.core.users import request_user_id
from apps.ledger import selectors as ledger_selectors
from apps.wallets import services
from apps.wallets.models import (
    MoneyRequest,
    Transfer,
    TransferReview,
    Wallet,
    WalletInvitation,
    WalletMember,
    WalletMemberChange,
    WalletStatusChange,
)


class _Trail(admin.TabularInline):
    """Rows shown on the wallet's page as they are: never added, edited or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MemberInline(_Trail):
    """Members at a glance; "change" opens the member to edit or remove with a reason."""

    model = WalletMember
    fields = ("user", "role", "daily_limit", "created_at")
    show_change_link = True


class StatusChangeInline(_Trail):
    model = WalletStatusChange
    fk_name = "wallet"
    fields = ("created_at", "from_status", "to_status", "reason", "changed_by")


class MemberChangeInline(_Trail):
    model = WalletMemberChange
    fields = ("created_at", "user", "action", "role", "daily_limit", "reason", "changed_by")


class InvitationInline(_Trail):
    model = WalletInvitation
    fields = ("created_at", "contact", "invitee", "role", "daily_limit", "state", "decided_at")


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
    inlines = (MemberInline, InvitationInline, MemberChangeInline, StatusChangeInline)
    actions = ("freeze", "unfreeze", "close")

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

    @admin.action(
        description="Close wallet (only when empty; kept for history)", permissions=["freeze"]
    )
    def close(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> HttpResponse | None:
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return self._ask_reason(request, form, queryset, "closed")
        closed = 0
        staff_id = request_user_id(request)
        for wallet in queryset.order_by("pk"):
            try:
                services.wallet_close_by_staff(
                    wallet_id=wallet.pk,
                    staff_id=staff_id,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:  # money left on it, a hold, a review in flight
                self.message_user(request, f"{wallet.pk}: {error.message}", messages.ERROR)
            else:
                closed += 1
        if closed:
            self.message_user(request, f"{closed} wallet(s) now closed.", messages.SUCCESS)
        return None

    def _ask_reason(
        self, request: HttpRequest, form: ReasonForm, queryset: QuerySet[Wallet], status: str
    ) -> HttpResponse:
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

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Wallet], status: str
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():  # first step: ask for the reason
            return self._ask_reason(request, form, queryset, status)
        changed = 0
        staff_id = request_user_id(request)
        for wallet in queryset.order_by("pk"):
            try:
                services.wallet_set_status(
                    wallet_id=wallet.pk,
                    status=status,
                    reason=form.cleaned_data["reason"],
                    changed_by_id=staff_id,
                )
            except DomainError as error:  # a closed wallet stays closed
                self.message_user(request, f"{wallet.pk}: {error.message}", messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} wallet(s) now {status}.", messages.SUCCESS)
        return None


class MemberForm(forms.ModelForm):
    reason = forms.CharField(widget=forms.Textarea, help_text="Kept with the wallet's members.")

    class Meta:
        model = WalletMember
        fields = ("role", "daily_limit")


@admin.register(WalletMember)
class WalletMemberAdmin(admin.ModelAdmin):
    """Staff change a member's role or daily limit, or remove them, always with a reason
    (kept in the wallet's member trail); the member is told."""

    form = MemberForm
    list_display = ("wallet", "user", "role", "daily_limit", "created_at")
    list_filter = ("role",)
    search_fields = ("=wallet__id", "user__email")
    list_select_related = ("wallet", "user")
    readonly_fields = ("wallet", "user", "created_at")
    actions = ("remove",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the "remove" action keeps a reason

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("wallets.change_walletmember")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        limit = form.cleaned_data["daily_limit"]
        services.wallet_member_update(
            wallet_id=obj.wallet_id,
            member_id=obj.public_id,
            changed_by_id=request_user_id(request),
            role=form.cleaned_data["role"],
            daily_limit=None if limit is None else Money(limit, obj.wallet.currency),
            by_staff=True,
            reason=form.cleaned_data["reason"],
        )

    @admin.action(description="Remove from the wallet (with a reason)", permissions=["remove"])
    def remove(self, request: HttpRequest, queryset: QuerySet[WalletMember]) -> Any:
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/wallets/reason.html",
                {
                    **self.admin_site.each_context(request),
                    "form": form,
                    "wallets": queryset,
                    "action": request.POST["action"],
                    "selected": ACTION_CHECKBOX_NAME,
                    "title": f"Remove {queryset.count()} member(s)",
                },
            )
        staff_id = request_user_id(request)
        for member in queryset.order_by("pk"):
            services.wallet_member_remove(
                wallet_id=member.wallet_id,
                member_id=member.public_id,
                changed_by_id=staff_id,
                by_staff=True,
                reason=form.cleaned_data["reason"],
            )
        self.message_user(request, f"{queryset.count()} member(s) removed.", messages.SUCCESS)
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
        staff_id = request_user_id(request)
        for review in queryset.filter(state=TransferReview.State.PENDING).order_by("pk"):
            try:
                state = services.transfer_review_decide(
                    review_id=review.pk,
                    staff_id=staff_id,
                    approve=approve,
                    note="admin",
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


@admin.register(MoneyRequest)
class MoneyRequestAdmin(ReadOnlyAdmin):
    """Requests between customers; accepted ones name the transfer (or its review)."""

    list_display = ("created_at", "requester", "payer", "amount", "currency", "state")
    list_filter = ("state", "currency")
    search_fields = ("=id", "requester__email", "payer__email", "contact", "=transfer_id")
    list_select_related = ("requester", "payer")


auditlog.register(Wallet)
auditlog.register(WalletMember)
