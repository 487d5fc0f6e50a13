"""Money requests: ask another customer for an amount; they accept (an ordinary P2P
transfer, paid once however often accepted), or decline; the requester may cancel."""

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import CurrencyField, MinorUnitsField
from apps.core.api.pagination import page_of
from apps.core.money import Money
from apps.core.users import request_user_id
from apps.wallets import errors, services
from apps.wallets import selectors as wallet_selectors
from apps.wallets.api.members import ContactField
from apps.wallets.api.views import TRANSFER_ERRORS, TransferSerializer
from apps.wallets.models import MoneyRequest


class MoneyRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    direction = serializers.ChoiceField(
        choices=["incoming", "outgoing"], help_text="incoming: you are asked to pay."
    )
    requester = serializers.CharField()
    contact = serializers.CharField(
        allow_null=True, help_text="Who you asked (outgoing only), as you typed it."
    )
    wallet = serializers.UUIDField(allow_null=True, help_text="Paid into (outgoing only).")
    amount = serializers.IntegerField(help_text="In minor units.")
    currency = serializers.CharField()
    note = serializers.CharField()
    state = serializers.ChoiceField(choices=MoneyRequest.State.values)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    transfer_id = serializers.UUIDField(allow_null=True)
    transfer = TransferSerializer(
        allow_null=True, help_text="The payment, in an accept's answer only."
    )


class MoneyRequestListApi(APIView):
    throttle_scope = "money"
    domain_errors = (
        errors.WalletNotFound,
        errors.WalletClosed,
        errors.NotAllowedToSend,
        errors.CurrencyMismatch,
        errors.SelfRequest,
    )

    class InputSerializer(serializers.Serializer):
        contact = ContactField(
            max_length=254,
            help_text="The payer's e-mail address or verified phone (+E.164). The answer is"
            " the same whether or not a customer has it.",
        )
        amount = MinorUnitsField(min_value=1, max_value=10**15, help_text="In minor units.")
        currency = CurrencyField()
        note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        wallet = serializers.UUIDField(
            required=False, help_text="Your wallet to be paid into; default: your personal one."
        )

    class QuerySerializer(serializers.Serializer):
        direction = serializers.ChoiceField(choices=["incoming", "outgoing"], required=False)
        state = serializers.ChoiceField(choices=MoneyRequest.State.values, required=False)

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: page_of("MoneyRequestList", MoneyRequestSerializer(many=True))},
    )
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = wallet_selectors.money_request_list(
            user_id=request_user_id(request),
            direction=query.validated_data.get("direction"),
            state=query.validated_data.get("state"),
        )
        return Response({"results": MoneyRequestSerializer(rows, many=True).data})

    @extend_schema(request=InputSerializer, responses={201: MoneyRequestSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.money_request_create(
            requester_id=request_user_id(request),
            contact=data["contact"],
            amount=Money(data["amount"], data["currency"]),
            note=data["note"],
            wallet_id=data.get("wallet"),
        )
        return Response(MoneyRequestSerializer(created).data, status=201)


class MoneyRequestAcceptApi(APIView):
    """Pay the request from your wallet: a P2P transfer with all of its rules and error
    codes (nothing moves on a refusal). Accepting again pays nothing more."""

    throttle_scope = "money"
    domain_errors = (errors.MoneyRequestNotFound, errors.MoneyRequestNotPending, *TRANSFER_ERRORS)

    class InputSerializer(serializers.Serializer):
        source_wallet = serializers.UUIDField(
            required=False, help_text="Pay from this wallet; default: your personal one."
        )

    @extend_schema(request=InputSerializer, responses={200: MoneyRequestSerializer})
    def post(self, request: Request, request_id: UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accepted = services.money_request_accept(
            request_id=request_id,
            payer_id=request_user_id(request),
            source_wallet_id=serializer.validated_data.get("source_wallet"),
        )
        return Response(MoneyRequestSerializer(accepted).data)


class MoneyRequestDeclineApi(APIView):
    """The payer declines; declining again changes nothing."""

    domain_errors = (errors.MoneyRequestNotFound, errors.MoneyRequestNotPending)

    @extend_schema(request=None, responses={200: MoneyRequestSerializer})
    def post(self, request: Request, request_id: UUID) -> Response:
        declined = services.money_request_decline(
            request_id=request_id, payer_id=request_user_id(request)
        )
        return Response(MoneyRequestSerializer(declined).data)


class MoneyRequestCancelApi(APIView):
    """The requester withdraws the request; cancelling again changes nothing."""

    domain_errors = (errors.MoneyRequestNotFound, errors.MoneyRequestNotPending)

    @extend_schema(request=None, responses={200: MoneyRequestSerializer})
    def post(self, request: Request, request_id: UUID) -> Response:
        cancelled = services.money_request_cancel(
            request_id=request_id, requester_id=request_user_id(request)
        )
        return Response(MoneyRequestSerializer(cancelled).data)
