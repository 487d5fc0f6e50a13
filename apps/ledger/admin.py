"""The ledger in the back office: read-only history, maker-checker adjustments and the
supported currencies."""

from decimal import Decimal
from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ExportMixin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.exports import SafeExportMixin
from apps.core.money import EXPONENTS, Money, MoneyError
from apps.ledger import selectors, services
from apps.ledger.models import (
    Account,
    Adjustment,
    AdjustmentStatus,
    Checkpoint,
    Currency,
    Entry,
    Hold,
    Transaction,
    VerificationReport,
)


def major(amount: int, currency: str) -> str:
    return str(Money(amount, currency))


class EntryAmounts:
    @admin.display(description="amount")
    def amount_major(self, obj: Entry) -> str:
        return major(obj.amount, obj.currency)

    @admin.display(description="balance after (shard)")
    def balance_major(self, obj: Entry) -> str:
        return major(obj.balance_after, obj.currency)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "type", "currency", "status", "posted", "available")
    list_filter = ("type", "currency", "status", "owner_type")
    search_fields = ("code", "name", "owner_id")

    @admin.display(description="posted")
    def posted(self, obj: Account) -> str:
        balance = selectors.account_balance(account_id=obj.pk).posted
        return major(balance.amount, balance.currency)

    @admin.display(description="available")
    def available(self, obj: Account) -> str:
        balance = selectors.account_balance(account_id=obj.pk).available
        return major(balance.amount, balance.currency)


class EntryInline(EntryAmounts, admin.TabularInline):
    model = Entry
    fields = ("account", "shard", "seq", "direction", "amount_major", "balance_major", "posted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(SafeExportMixin, ExportMixin, ReadOnlyAdmin):
    list_display = ("id", "kind", "description", "created_at", "effective_at", "reverses")
    list_filter = ("kind", "created_at")
    search_fields = ("=id", "idempotency_key", "description")
    inlines = (EntryInline,)


@admin.register(Entry)
class EntryAdmin(EntryAmounts, ReadOnlyAdmin):
    list_display = (
        "id",
        "account",
        "direction",
        "amount_major",
        "balance_major",
        "posted_at",
        "transaction",
    )
    list_filter = ("direction", "currency")
    search_fields = ("account__code", "=transaction__id")
    list_select_related = ("account", "transaction")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "debit_account",
        "amount_major",
        "status",
        "kind",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("=id", "idempotency_key", "debit_account__code")

    @admin.display(description="amount")
    def amount_major(self, obj: Hold) -> str:
        return major(obj.amount, obj.currency)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("day", "created_at")


@admin.register(VerificationReport)
class VerificationReportAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "finished_at", "ok")
    list_filter = ("ok",)


class AdjustmentForm(forms.ModelForm):
    amount_major = forms.CharField(label="Amount", help_text="In major units, e.g. 12.50")
    currency = forms.ChoiceField(choices=[(c, c) for c in sorted(EXPONENTS)], initial="EUR")

    class Meta:
        model = Adjustment
        fields = ("debit_account", "credit_account", "currency", "reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            data["money"] = Money.from_major(
                Decimal(data.get("amount_major") or "x"), data.get("currency", "")
            )
        except (MoneyError, ArithmeticError, ValueError):
            self.add_error("amount_major", "Enter an exact amount in the currency's units.")
        else:
            if data["money"].amount <= 0:
                self.add_error("amount_major", "The amount must be positive.")
        return data


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    """Maker-checker: one staff user proposes, a different one approves (and it posts)."""

    form = AdjustmentForm
    list_display = (
        "id",
        "debit_account",
        "credit_account",
        "amount_display",
        "status",
        "proposed_by",
        "decided_by",
        "proposed_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("reason", "=id")
    actions = ("approve", "reject")
    raw_id_fields = ("debit_account", "credit_account")

    @admin.display(description="amount")
    def amount_display(self, obj: Adjustment) -> str:
        return major(obj.amount, obj.currency)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "debit_account",
            "credit_account",
            "amount_display",
            "reason",
            "status",
            "proposed_by",
            "decided_by",
            "decided_at",
            "transaction",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("debit_account", "credit_account", "amount_major", "currency", "reason")
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Adjustment, form: Any, change: bool) -> None:
        money = form.cleaned_data["money"]
        obj.pk = services.adjustment_propose(
            debit_account_id=obj.debit_account_id,
            credit_account_id=obj.credit_account_id,
            amount=money,
            reason=obj.reason,
            proposed_by_id=request.user.pk,
        )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.approve_adjustment")

    @admin.action(description="Approve and post", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        self._decide(request, queryset, services.adjustment_approve, "approver_id", "posted")

    @admin.action(description="Reject", permissions=["approve"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        self._decide(request, queryset, services.adjustment_reject, "rejected_by_id", "rejected")

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[Adjustment], decide: Any, who: str, verb: str
    ) -> None:
        for adjustment in queryset.filter(status=AdjustmentStatus.PROPOSED):
            try:
                decide(adjustment_id=adjustment.pk, **{who: request.user.pk})
            except DomainError as error:
                self.message_user(request, f"{adjustment.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{adjustment.pk}: {verb}.", messages.SUCCESS)


class CurrencyForm(forms.ModelForm):
    code = forms.ChoiceField(choices=[(c, c) for c in sorted(EXPONENTS)])

    class Meta:
        model = Currency
        fields = ("code",)


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    """Which currencies customers may hold and pay in. Adding or enabling one goes through
    `currency_enable`, which creates its system accounts in the same transaction."""

    form = CurrencyForm
    list_display = ("code", "enabled", "created_at", "updated_at")
    list_filter = ("enabled",)
    actions = ("enable", "disable")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("code", "enabled", "created_at", "updated_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code",) if obj is None else self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts and wallets are in it: disable instead

    def save_model(self, request: HttpRequest, obj: Currency, form: Any, change: bool) -> None:
        services.currency_enable(code=obj.code)

    @admin.action(description="Enable (creates its system accounts)", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Currency]) -> None:
        for code in queryset.values_list("code", flat=True):
            created = services.currency_enable(code=code)
            self.message_user(request, f"{code}: enabled, {created} accounts created.")

    @admin.action(
        description="Disable (existing money can still move and leave)", permissions=["change"]
    )
    def disable(self, request: HttpRequest, queryset: QuerySet[Currency]) -> None:
        for code in queryset.values_list("code", flat=True):
            services.currency_disable(code=code)
            self.message_user(request, f"{code}: disabled.")


# Staff changes are logged with who, when and before/after (viewable by superusers).
auditlog.register(Currency)
auditlog.register(Adjustment)
auditlog.register(Account, include_fields=["status"])
