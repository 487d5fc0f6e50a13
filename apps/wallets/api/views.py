from datetime import datetime
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import CurrencyField, MinorUnitsField
from apps.core.api.pagination import next_link, page_of
from apps.core.idempotency import idempotent
from apps.core.money import Money
from apps.core.users import request_user_id
from apps.ledger.services import CurrencyNotSupported, IdempotencyKeyReused, InsufficientFunds
from apps.wallets import errors, selectors, services


class BalanceSerializer(serializers.Serializer):
    posted = serializers.IntegerField(source="posted.amount")
    pending = serializers.IntegerField(source="pending.amount")
    available = serializers.IntegerField(source="available.amount")


class WalletSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    currency = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    is_default = serializers.BooleanField()
    is_shared = serializers.BooleanField()
    role = serializers.CharField()
    balance = BalanceSerializer()
    created_at = serializers.DateTimeField()


class WalletListApi(APIView):
    domain_errors = (errors.WalletExists, CurrencyNotSupported)

    class InputSerializer(serializers.Serializer):
        currency = CurrencyField()
        name = serializers.CharField(max_length=100, required=False, default="")
        shared = serializers.BooleanField(required=False, default=False)

    class QuerySerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=["active", "frozen", "closed"],
            required=False,
            help_text="Only wallets in this status. Without it closed wallets are listed too"
            ' (`status` "closed"), so their history stays reachable.',
        )

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: page_of("WalletList", WalletSerializer(many=True))},
    )
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wallets = selectors.wallet_list(
            user_id=request_user_id(request), status=query.validated_data.get("status")
        )
        return Response({"results": WalletSerializer(wallets, many=True).data})

    @extend_schema(request=InputSerializer, responses={201: WalletSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user_id = request_user_id(request)
        wallet_id = services.wallet_create(
            owner_id=user_id,
            currency=data["currency"],
            name=data["name"],
            shared=data["shared"],
        )
        wallet = selectors.wallet_get(wallet_id=wallet_id, user_id=user_id)
        return Response(WalletSerializer(wallet).data, status=201)


class WalletDetailApi(APIView):
    domain_errors = (errors.WalletNotFound,)

    @extend_schema(responses={200: WalletSerializer})
    def get(self, request: Request, wallet_id: UUID) -> Response:
        wallet = selectors.wallet_get(wallet_id=wallet_id, user_id=request_user_id(request))
        return Response(WalletSerializer(wallet).data)


class WalletCloseApi(APIView):
    """Close one of your wallets. Refused while it holds money or has money reserved or in
    review; closing a closed wallet answers 200 again. A closed wallet stays in the list and
    its history stays readable; it can no longer send or receive."""

    domain_errors = (
        errors.WalletNotFound,
        errors.NotWalletOwner,
        errors.WalletNotEmpty,
        errors.WalletHasOpenHolds,
    )

    @extend_schema(request=None, responses={200: WalletSerializer})
    def post(self, request: Request, wallet_id: UUID) -> Response:
        user_id = request_user_id(request)
        services.wallet_close(wallet_id=wallet_id, user_id=user_id)
        wallet = selectors.wallet_get(wallet_id=wallet_id, user_id=user_id)
        return Response(WalletSerializer(wallet).data)


class HoldSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = serializers.IntegerField(source="amount.amount")
    kind = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    payment_id = serializers.SerializerMethodField()

    def get_payment_id(self, hold: Any) -> str | None:
        return hold.metadata.get("payment_id")


class WalletBalanceApi(APIView):
    """Balance now with its explanation, or the posted balance as of a past moment."""

    domain_errors = (errors.WalletNotFound,)

    class OutputSerializer(serializers.Serializer):
        currency = serializers.CharField()
        as_of = serializers.DateTimeField(allow_null=True)
        posted = serializers.IntegerField()
        available = serializers.IntegerField(allow_null=True)
        holds = HoldSerializer(many=True, allow_null=True)

    class QuerySerializer(serializers.Serializer):
        as_of = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[QuerySerializer], responses={200: OutputSerializer})
    def get(self, request: Request, wallet_id: UUID) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of: datetime | None = query.validated_data.get("as_of")
        if as_of is not None:
            posted = selectors.wallet_balance_as_of(
                wallet_id=wallet_id, user_id=request_user_id(request), as_of=as_of
            )
            body = {
                "currency": posted.currency,
                "as_of": as_of,
                "posted": posted.amount,
                "available": None,
                "holds": None,
            }
        else:
            explained = selectors.wallet_balance_explain(
                wallet_id=wallet_id, user_id=request_user_id(request)
            )
            body = {
                "currency": explained.posted.currency,
                "as_of": None,
                "posted": explained.posted.amount,
                "available": explained.available.amount,
                "holds": explained.holds,
            }
        return Response(self.OutputSerializer(body).data)


class WalletTransactionsApi(APIView):
    domain_errors = (errors.WalletNotFound,)

    class QuerySerializer(serializers.Serializer):
        cursor = serializers.CharField(required=False)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        kind = serializers.ListField(child=serializers.CharField(), required=False)

    class ItemSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="entry_id")
        transaction_id = serializers.UUIDField()
        kind = serializers.CharField()
        direction = serializers.CharField()
        amount = serializers.IntegerField(source="amount.amount")
        currency = serializers.CharField(source="amount.currency")
        balance_after = serializers.IntegerField(source="balance_after.amount")
        counterparty = serializers.CharField()
        status = serializers.CharField()
        note = serializers.CharField()
        posted_at = serializers.DateTimeField()

    class PageSerializer(serializers.Serializer):
        next = serializers.CharField(allow_null=True)
        results = serializers.ListField()

    @extend_schema(
        parameters=[
            QuerySerializer,
            OpenApiParameter("kind", str, many=True, description="repeat to combine"),
        ],
        responses={
            200: page_of("WalletTransactionsPage", ItemSerializer(many=True), links=("next",))
        },
    )
    def get(self, request: Request, wallet_id: UUID) -> Response:
        query = self.QuerySerializer(
            data={**request.query_params.dict(), "kind": request.query_params.getlist("kind")}
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            page = selectors.wallet_history(
                wallet_id=wallet_id,
                user_id=request_user_id(request),
                cursor=data.get("cursor"),
                limit=data["page_size"],
                since=data.get("since"),
                until=data.get("until"),
                kinds=data.get("kind") or None,
            )
        except ValueError:
            raise NotFound("Invalid cursor.") from None
        next_url = next_link(request, page.next_cursor)
        return Response(
            {"next": next_url, "results": self.ItemSerializer(page.items, many=True).data}
        )


class TransferSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    source_wallet = serializers.UUIDField()
    destination_wallet = serializers.UUIDField()
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    currency = serializers.CharField()
    note = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


# What a P2P transfer can refuse, wherever one starts (a transfer, a money request paid).
TRANSFER_ERRORS = (
    errors.WalletNotFound,
    errors.RecipientNotFound,
    errors.WalletFrozen,
    errors.WalletClosed,
    errors.CurrencyMismatch,
    errors.SelfTransfer,
    errors.NotAllowedToSend,
    errors.LimitExceeded,
    errors.RiskDenied,
    InsufficientFunds,
    IdempotencyKeyReused,
)


class TransferCreateApi(APIView):
    throttle_scope = "money"  # THROTTLE_MONEY, per user
    domain_errors = TRANSFER_ERRORS

    class InputSerializer(serializers.Serializer):
        source_wallet = serializers.UUIDField()
        destination = serializers.CharField(
            max_length=254,
            help_text="A wallet id, or the recipient's email address or verified phone (+E.164).",
        )
        amount = MinorUnitsField(
            min_value=1, max_value=10**15, help_text="In minor units (1050 = 10.50 EUR)."
        )
        currency = CurrencyField()
        note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: TransferSerializer,
            202: OpenApiResponse(
                TransferSerializer,
                description='Held for review by the risk rules (`status` "review"): the amount'
                " is reserved on the source wallet (no longer available) until staff approve"
                " it (it posts once) or decline it (it is released).",
            ),
        },
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        transfer = services.transfer_create(
            source_wallet_id=data["source_wallet"],
            destination=data["destination"],
            amount=Money(data["amount"], data["currency"]),
            requested_by_id=request_user_id(request),
            idempotency_key=request.idempotency_key,  # type: ignore[attr-defined]  # set by @idempotent
            note=data["note"],
        )
        status = 202 if transfer.status == "review" else 201
        return Response(TransferSerializer(transfer).data, status=status)


class TransferDetailApi(APIView):
    domain_errors = (errors.WalletNotFound,)

    @extend_schema(responses={200: TransferSerializer})
    def get(self, request: Request, transfer_id: UUID) -> Response:
        transfer = selectors.transfer_get(transfer_id=transfer_id, user_id=request_user_id(request))
        return Response(TransferSerializer(transfer).data)


class RecipientLookupApi(APIView):
    """Who a transfer to this e-mail address or verified phone number would reach, so the
    sender can confirm the name before sending. 404 `recipient_not_found` otherwise."""

    throttle_scope = "lookup"  # THROTTLE_LOOKUP, per user: slows address harvesting
    domain_errors = (errors.RecipientNotFound,)

    class QuerySerializer(serializers.Serializer):
        destination = serializers.CharField(
            max_length=254, help_text="The recipient's email address or verified phone (+E.164)."
        )
        currency = CurrencyField()

    class OutputSerializer(serializers.Serializer):
        display_name = serializers.CharField()
        currency = serializers.CharField()

    @extend_schema(parameters=[QuerySerializer], responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        recipient = selectors.recipient_find(
            destination=query.validated_data["destination"],
            currency=query.validated_data["currency"],
        )
        if recipient is None:
            raise errors.RecipientNotFound()
        return Response(self.OutputSerializer(recipient).data)
