"""The ledger in the back office: read-only history, maker-checker adjustments and reversals,
and the supported currencies."""

from decimal import Decimal
from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ExportMixin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.exports import SafeExportMixin
from apps.core.money import EXPONENTS, Money, MoneyError
from apps.core.users import request_user_id
from apps.ledger import selectors, services
from apps.ledger.models import (
    Account,
    Adjustment,
    AdjustmentStatus,
    Checkpoint,
    Currency,
    Entry,
    Hold,
    Reversal,
    ReversalStatus,
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
# import-export's mixins and django-stubs type model and templates differently.
class TransactionAdmin(SafeExportMixin, ExportMixin, ReadOnlyAdmin):  # type: ignore[misc]
    list_display = ("id", "kind", "description", "created_at", "effective_at", "reverses")
    list_filter = ("kind", "created_at")
    search_fields = ("=id", "idempotency_key", "description")
    inlines = (EntryInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        may_propose = request.user.has_perm("ledger.add_reversal")
        return (*fields, "reversal_propose" if may_propose else "reversal_state")

    @admin.display(description="reversal")
    def reversal_state(self, obj: Transaction) -> str:
        if obj.reverses_id is not None:
            return "this transaction is a reversal"
        reversed_by = Transaction.objects.filter(reverses_id=obj.pk).first()
        if reversed_by is not None:
            url = reverse("admin:ledger_transaction_change", args=[reversed_by.pk])
            return format_html('reversed by <a href="{}">{}</a>', url, reversed_by.pk)
        pending = obj.reversal_proposals.filter(status=ReversalStatus.PROPOSED).first()
        if pending is not None:
            url = reverse("admin:ledger_reversal_change", args=[pending.pk])
            return format_html('<a href="{}">reversal proposed</a>, awaiting approval', url)
        return "-"

    @admin.display(description="reversal")
    def reversal_propose(self, obj: Transaction) -> str:
        state = self.reversal_state(obj)
        if state != "-":
            return state
        url = reverse("admin:ledger_reversal_add")
        return format_html('<a href="{}?transaction={}">Propose reversal</a>', url, obj.pk)


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
        super().clean()
        data = self.cleaned_data
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
            proposed_by_id=request_user_id(request),
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
                decide(adjustment_id=adjustment.pk, **{who: request_user_id(request)})
            except DomainError as error:
                self.message_user(request, f"{adjustment.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{adjustment.pk}: {verb}.", messages.SUCCESS)


class ReversalForm(forms.ModelForm):
    class Meta:
        model = Reversal
        fields = ("transaction", "reason")
        help_texts = {"transaction": "The id of the ledger transaction to undo."}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("transaction") is not None:
            try:
                services.reversal_check(transaction_id=data["transaction"].pk)
            except DomainError as error:
                self.add_error("transaction", error.message)
        return data


@admin.register(Reversal)
class ReversalAdmin(admin.ModelAdmin):
    """Maker-checker: one staff user proposes undoing a transaction, a different one approves
    (and its mirror image posts) or rejects."""

    form = ReversalForm
    list_display = (
        "id",
        "transaction",
        "status",
        "reason",
        "proposed_by",
        "decided_by",
        "proposed_at",
        "reversal_transaction",
    )
    list_filter = ("status",)
    search_fields = ("reason", "=id", "=transaction__id")
    list_select_related = ("transaction", "proposed_by", "decided_by", "reversal_transaction")
    actions = ("approve", "reject")
    raw_id_fields = ("transaction",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "transaction",
            "legs",
            "reason",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "reversal_transaction",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("transaction", "reason")
        return self.get_readonly_fields(request, obj)

    @admin.display(description="legs the reversal posts")
    def legs(self, obj: Reversal) -> str:
        legs = services.reversal_legs(transaction_id=obj.transaction_id)
        return format_html_join(
            "",
            "<div>{} {} {}</div>",
            (
                (
                    "debit" if leg.direction == "D" else "credit",
                    selectors.account_get(account_id=leg.account_id).code,
                    leg.amount,
                )
                for leg in legs
            ),
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # lost a race with another proposal after the form's check
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:ledger_reversal_changelist"))

    def save_model(self, request: HttpRequest, obj: Reversal, form: Any, change: bool) -> None:
        obj.pk = services.reversal_propose(
            transaction_id=obj.transaction_id,
            reason=obj.reason,
            proposed_by_id=request_user_id(request),
        )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.approve_reversal")

    @admin.action(description="Approve and post the reversal", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Reversal]) -> None:
        for reversal in queryset:  # a decided one is refused with a message, not skipped
            try:
                posting = services.reversal_approve(
                    reversal_id=reversal.pk, approver_id=request_user_id(request)
                )
            except DomainError as error:
                self.message_user(request, f"{reversal.pk}: {error.message}", messages.ERROR)
            else:
                reversal.refresh_from_db()
                self.log_change(request, reversal, f"Approved; posted {posting.transaction_id}.")
                self.message_user(
                    request, f"{reversal.pk}: posted as {posting.transaction_id}.", messages.SUCCESS
                )

    @admin.action(description="Reject", permissions=["approve"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Reversal]) -> None:
        for reversal in queryset:  # a decided one is refused with a message, not skipped
            try:
                services.reversal_reject(
                    reversal_id=reversal.pk, rejected_by_id=request_user_id(request)
                )
            except DomainError as error:
                self.message_user(request, f"{reversal.pk}: {error.message}", messages.ERROR)
            else:
                reversal.refresh_from_db()
                self.log_change(request, reversal, "Rejected.")
                self.message_user(request, f"{reversal.pk}: rejected.", messages.SUCCESS)


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
auditlog.register(Reversal)
auditlog.register(Account, include_fields=["status"])
