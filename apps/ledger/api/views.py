"""The ledger API for other systems (a card processor, a lending product): API keys only.

A key works in its namespace: the accounts it opens and the transactions and holds it posts.
`ledger:all_accounts` also reaches every other account (wallets', system accounts); the
ledger's own rules (balance rules, frozen and closed accounts, reversed once) hold either way.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.machine import ScopeRequired, principal
from apps.core.api.pagination import CursorPagination, next_link, page_of
from apps.core.idempotency import idempotent
from apps.core.machine import ALL_ACCOUNTS, MachinePrincipal
from apps.core.money import Money
from apps.ledger import errors, selectors, services
from apps.ledger.models import AccountType, BalanceRule, Direction

REFERENCE = r"^[A-Za-z0-9._:\-]{1,150}$"
POSTING_ERRORS = (
    errors.AccountNotFound,
    errors.AccountFrozen,
    errors.AccountClosed,
    errors.InsufficientFunds,
    errors.BalanceRuleViolated,
    errors.CurrencyMismatch,
    errors.InvalidAmount,
    errors.UnbalancedTransaction,
    errors.IdempotencyKeyReused,
)


class LedgerKeyApi(APIView):
    permission_classes = [ScopeRequired]
    required_scopes = {"GET": "ledger:read", "POST": "ledger:write"}

    def caller(self, request: Request) -> MachinePrincipal:
        caller = principal(request)
        assert caller is not None  # noqa: S101 - ScopeRequired let only keys in
        return caller

    def reach(self, request: Request) -> dict[str, Any]:
        caller = self.caller(request)
        return {"namespace": caller.namespace, "everywhere": caller.has(ALL_ACCOUNTS)}


def _author(caller: MachinePrincipal) -> str:
    return f"api_key:{caller.key_id}"


class Metadata(serializers.DictField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(max_length=500), required=False, **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value = super().to_internal_value(data)
        if len(value) > 50 or any(len(k) > 40 for k in value):
            raise serializers.ValidationError("At most 50 keys of at most 40 characters.")
        return value


class LedgerAccountSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()
    rule = serializers.CharField()
    owner_type = serializers.CharField()


def _account_body(account: selectors.AccountView, namespace: str) -> dict[str, Any]:
    prefix = selectors.external_prefix(namespace=namespace)
    body = LedgerAccountSerializer(account).data
    body["code"] = account.code.removeprefix(prefix)
    return body


class LedgerAccountListApi(LedgerKeyApi):
    domain_errors = (errors.CurrencyNotSupported, errors.CurrencyMismatch)

    class InputSerializer(serializers.Serializer):
        code = serializers.RegexField(REFERENCE)
        name = serializers.CharField(max_length=200)
        type = serializers.ChoiceField(choices=AccountType.choices)
        currency = serializers.CharField(min_length=3, max_length=3)
        rule = serializers.ChoiceField(choices=BalanceRule.choices, default=BalanceRule.NONE)

    class Pagination(CursorPagination):
        ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple

    @extend_schema(
        responses={
            200: page_of(
                "LedgerAccountList", LedgerAccountSerializer(many=True), links=("next", "previous")
            )
        },
    )
    def get(self, request: Request) -> Response:
        reach = self.reach(request)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(selectors.accounts_visible(**reach), request, view=self)
        views = [selectors.account_view(a) for a in page or []]
        return paginator.get_paginated_response(
            [_account_body(v, reach["namespace"]) for v in views]
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: LedgerAccountSerializer, 200: LedgerAccountSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        namespace = self.caller(request).namespace
        account_id, created = services.external_account_open(
            namespace=namespace, **data.validated_data
        )
        account = selectors.account_get(account_id=account_id)
        return Response(_account_body(account, namespace), status=201 if created else 200)


class LedgerAccountDetailSerializer(LedgerAccountSerializer):
    posted = serializers.IntegerField()
    pending = serializers.IntegerField(allow_null=True, help_text="null with as_of")
    available = serializers.IntegerField(allow_null=True, help_text="null with as_of")
    as_of = serializers.DateTimeField(allow_null=True)


class LedgerAccountDetailApi(LedgerKeyApi):
    domain_errors = (errors.AccountNotFound,)

    class QuerySerializer(serializers.Serializer):
        as_of = serializers.DateTimeField(required=False, help_text="posted balance at this moment")

    @extend_schema(parameters=[QuerySerializer], responses={200: LedgerAccountDetailSerializer})
    def get(self, request: Request, account_id: UUID) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reach = self.reach(request)
        account = selectors.account_reachable(account_id=account_id, **reach)
        body = _account_body(account, reach["namespace"])
        as_of = query.validated_data.get("as_of")
        if as_of:
            posted = selectors.account_balance_as_of(account_id=account_id, as_of=as_of).amount
            body |= {"posted": posted, "pending": None, "available": None, "as_of": as_of}
        else:
            balance = selectors.account_balance(account_id=account_id)
            body |= {
                "posted": balance.posted.amount,
                "pending": balance.pending.amount,
                "available": balance.available.amount,
                "as_of": None,
            }
        return Response(body)


class LedgerAccountEntriesApi(LedgerKeyApi):
    domain_errors = (errors.AccountNotFound,)

    class QuerySerializer(serializers.Serializer):
        cursor = serializers.CharField(required=False)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    class ItemSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        transaction_id = serializers.UUIDField()
        kind = serializers.CharField()
        description = serializers.CharField()
        direction = serializers.CharField()
        amount = serializers.IntegerField(source="amount.amount")
        currency = serializers.CharField(source="amount.currency")
        balance_after = serializers.IntegerField(source="balance_after.amount")
        posted_at = serializers.DateTimeField()
        metadata = serializers.DictField()

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: page_of("LedgerEntriesPage", ItemSerializer(many=True), links=("next",))},
    )
    def get(self, request: Request, account_id: UUID) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        selectors.account_reachable(account_id=account_id, **self.reach(request))
        try:
            page = selectors.entries_page(
                account_id=account_id,
                cursor=data.get("cursor"),
                limit=data["page_size"],
                since=data.get("since"),
                until=data.get("until"),
            )
        except ValueError:
            raise NotFound("Invalid cursor.") from None
        next_url = next_link(request, page.next_cursor)
        return Response(
            {"next": next_url, "results": self.ItemSerializer(page.items, many=True).data}
        )


class LedgerEntrySerializer(serializers.Serializer):
    account = serializers.UUIDField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    amount = serializers.IntegerField(min_value=1)
    currency = serializers.CharField(min_length=3, max_length=3)


class LedgerTransactionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.DictField()
    effective_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    reverses = serializers.UUIDField(allow_null=True)
    reversed_by = serializers.UUIDField(allow_null=True)
    entries = LedgerEntrySerializer(many=True)


def _transaction_body(transaction_id: UUID, reach: dict[str, Any]) -> dict[str, Any]:
    txn = selectors.transaction_visible(transaction_id=transaction_id, **reach)
    prefix = selectors.external_prefix(namespace=reach["namespace"])
    return LedgerTransactionSerializer(
        {
            "id": txn.id,
            "reference": txn.idempotency_key.removeprefix(prefix)
            if txn.idempotency_key.startswith(prefix)
            else "",
            "kind": txn.kind,
            "description": txn.description,
            "metadata": txn.metadata,
            "effective_at": txn.effective_at,
            "created_at": txn.created_at,
            "reverses": txn.reverses_id,
            "reversed_by": txn.reversed_by_id,
            "entries": [
                {"account": a, "direction": d, "amount": m.amount, "currency": m.currency}
                for a, d, m in txn.entries
            ],
        }
    ).data


class LedgerTransactionCreateApi(LedgerKeyApi):
    domain_errors = POSTING_ERRORS

    class InputSerializer(serializers.Serializer):
        reference = serializers.RegexField(REFERENCE, help_text="your permanent business key")
        # For the ListSerializer that many=True builds; the stubs miss them.
        entries = LedgerEntrySerializer(many=True, min_length=2, max_length=50)  # type: ignore[call-arg]
        description = serializers.CharField(max_length=500, required=False, default="")
        metadata = Metadata()

    @extend_schema(
        request=InputSerializer,
        responses={201: LedgerTransactionSerializer, 200: LedgerTransactionSerializer},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        caller = self.caller(request)
        result = services.external_post(
            **self.reach(request),
            reference=body["reference"],
            legs=[
                services.Leg(e["account"], e["direction"], Money(e["amount"], e["currency"]))
                for e in body["entries"]
            ],
            description=body["description"],
            metadata=body.get("metadata") or {},
            created_by=_author(caller),
        )
        return Response(
            _transaction_body(result.transaction_id, self.reach(request)),
            status=200 if result.replayed else 201,
        )


class LedgerTransactionDetailApi(LedgerKeyApi):
    domain_errors = (errors.TransactionNotFound,)

    @extend_schema(responses={200: LedgerTransactionSerializer})
    def get(self, request: Request, transaction_id: UUID) -> Response:
        return Response(_transaction_body(transaction_id, self.reach(request)))


class LedgerTransactionReverseApi(LedgerKeyApi):
    domain_errors = (
        *POSTING_ERRORS,
        errors.TransactionNotFound,
        errors.AlreadyReversed,
        errors.ReasonRequired,
        errors.ReversalOfReversal,
    )

    class InputSerializer(serializers.Serializer):
        reference = serializers.RegexField(REFERENCE, help_text="the reversal's business key")
        reason = serializers.CharField(max_length=500)

    @extend_schema(
        request=InputSerializer,
        responses={201: LedgerTransactionSerializer, 200: LedgerTransactionSerializer},
    )
    @idempotent
    def post(self, request: Request, transaction_id: UUID) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        caller = self.caller(request)
        result = services.external_reverse(
            namespace=caller.namespace,
            transaction_id=transaction_id,
            created_by=_author(caller),
            **data.validated_data,
        )
        return Response(
            _transaction_body(result.transaction_id, self.reach(request)),
            status=200 if result.replayed else 201,
        )


class LedgerHoldSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    debit_account = serializers.UUIDField(source="debit_account_id")
    credit_account = serializers.UUIDField(source="credit_account_id")
    amount = serializers.IntegerField(source="amount.amount")
    currency = serializers.CharField(source="amount.currency")
    status = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    description = serializers.CharField()
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()
    posted_amount = serializers.IntegerField(source="posted_amount.amount", allow_null=True)
    transaction_id = serializers.UUIDField(allow_null=True)


def _hold_body(hold_id: UUID, namespace: str) -> dict[str, Any]:
    return LedgerHoldSerializer(selectors.hold_external(hold_id=hold_id, namespace=namespace)).data


class LedgerHoldCreateApi(LedgerKeyApi):
    domain_errors = POSTING_ERRORS

    class InputSerializer(serializers.Serializer):
        reference = serializers.RegexField(REFERENCE, help_text="your permanent business key")
        debit_account = serializers.UUIDField()
        credit_account = serializers.UUIDField()
        amount = serializers.IntegerField(min_value=1)
        currency = serializers.CharField(min_length=3, max_length=3)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        description = serializers.CharField(max_length=500, required=False, default="")
        metadata = Metadata()

    @extend_schema(
        request=InputSerializer, responses={201: LedgerHoldSerializer, 200: LedgerHoldSerializer}
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        reach = self.reach(request)
        result = services.external_hold_create(
            **reach,
            reference=body["reference"],
            debit_account_id=body["debit_account"],
            credit_account_id=body["credit_account"],
            amount=Money(body["amount"], body["currency"]),
            expires_at=body["expires_at"],
            description=body["description"],
            metadata=body.get("metadata") or {},
        )
        return Response(
            _hold_body(result.hold_id, reach["namespace"]), status=200 if result.replayed else 201
        )


class LedgerHoldDetailApi(LedgerKeyApi):
    domain_errors = (errors.HoldNotFound,)

    @extend_schema(responses={200: LedgerHoldSerializer})
    def get(self, request: Request, hold_id: UUID) -> Response:
        return Response(_hold_body(hold_id, self.caller(request).namespace))


class LedgerHoldPostApi(LedgerKeyApi):
    domain_errors = (
        *POSTING_ERRORS,
        errors.HoldNotFound,
        errors.HoldNotPending,
        errors.HoldExpired,
    )

    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1, required=False, help_text="default: all")
        currency = serializers.CharField(min_length=3, max_length=3, required=False)

    @extend_schema(request=InputSerializer, responses={200: LedgerHoldSerializer})
    @idempotent
    def post(self, request: Request, hold_id: UUID) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        caller = self.caller(request)
        hold = selectors.hold_external(hold_id=hold_id, namespace=caller.namespace)
        amount = None
        if "amount" in body:
            amount = Money(body["amount"], body.get("currency", hold.amount.currency))
        services.external_hold_post(
            namespace=caller.namespace, hold_id=hold_id, amount=amount, created_by=_author(caller)
        )
        return Response(_hold_body(hold_id, caller.namespace))


class LedgerHoldVoidApi(LedgerKeyApi):
    domain_errors = (errors.HoldNotFound, errors.HoldNotPending, errors.HoldExpired)

    @extend_schema(request=None, responses={200: LedgerHoldSerializer})
    @idempotent
    def post(self, request: Request, hold_id: UUID) -> Response:
        namespace = self.caller(request).namespace
        services.external_hold_void(namespace=namespace, hold_id=hold_id)
        return Response(_hold_body(hold_id, namespace))
