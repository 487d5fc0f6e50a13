from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.permissions import RecentStrongAuth
from apps.core.api.fields import CurrencyField, MinorUnitsField
from apps.core.api.pagination import CursorPagination, page_of
from apps.core.idempotency import IdempotencyKeyReused, idempotent
from apps.core.money import Money
from apps.core.users import request_user_id
from apps.ledger.services import CurrencyNotSupported
from apps.payments import errors, selectors, services
from apps.wallets import services as wallets_services

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True
)


class FundingSourceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    holder_name = serializers.CharField()
    iban_last4 = serializers.CharField()
    currency = serializers.CharField()
    provider = serializers.CharField()
    created_at = serializers.DateTimeField()


class FundingSourceListApi(APIView):
    domain_errors = (
        errors.InvalidIban,
        errors.FundingSourceExists,
        errors.ProviderUnavailable,
        CurrencyNotSupported,
    )

    def get_permissions(self) -> list:
        # Adding a way for money to leave needs two-factor and a recent login.
        if self.request.method == "POST":
            return [IsAuthenticated(), RecentStrongAuth()]
        return [IsAuthenticated()]

    class InputSerializer(serializers.Serializer):
        iban = serializers.CharField(max_length=42)
        holder_name = serializers.CharField(max_length=140)
        currency = CurrencyField()

    @extend_schema(
        responses={200: page_of("FundingSourceList", FundingSourceSerializer(many=True))}
    )
    def get(self, request: Request) -> Response:
        rows = selectors.funding_sources(user_id=request_user_id(request))
        return Response({"results": FundingSourceSerializer(rows, many=True).data})

    @extend_schema(request=InputSerializer, responses={201: FundingSourceSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_id = request_user_id(request)
        source_id = services.funding_source_add(user_id=user_id, **serializer.validated_data)
        source = selectors.funding_sources(user_id=user_id).get(pk=source_id)
        return Response(FundingSourceSerializer(source).data, status=201)


class FundingSourceDetailApi(APIView):
    domain_errors = (errors.FundingSourceNotFound, errors.FundingSourceInUse)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, source_id: UUID) -> Response:
        services.funding_source_remove(user_id=request_user_id(request), source_id=source_id)
        return Response(status=204)


class PaymentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    direction = serializers.CharField()
    state = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    wallet_id = serializers.UUIDField()
    funding_source_id = serializers.UUIDField()
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    cancellation_reason = serializers.CharField(help_text="e.g. requested_by_customer; or empty")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class HistorySerializer(serializers.Serializer):
    from_state = serializers.CharField(source="from", allow_null=True)
    to = serializers.CharField()
    at = serializers.DateTimeField()


class PaymentDetailSerializer(PaymentSerializer):
    history = HistorySerializer(many=True)


class MoneyInSerializer(serializers.Serializer):
    wallet = serializers.UUIDField()
    funding_source = serializers.UUIDField()
    amount = MinorUnitsField(min_value=1, max_value=10**13, help_text="minor units")
    currency = CurrencyField()


PAYMENT_ERRORS = (
    errors.FundingSourceNotFound,
    errors.RiskDenied,
    wallets_services.WalletNotFound,
    wallets_services.WalletClosed,
    wallets_services.CurrencyMismatch,  # also: the bank account is in another currency
    CurrencyNotSupported,
    wallets_services.NotAllowedToSend,
    wallets_services.LimitExceeded,
    IdempotencyKeyReused,
)


def _detail(user_id: int, payment_id: UUID) -> dict:
    payment = selectors.payment_get(user_id=user_id, payment_id=payment_id)
    data = PaymentSerializer(payment).data
    data["history"] = HistorySerializer(selectors.payment_history(payment=payment), many=True).data
    return data


def _money_post(request: Request, create: Any) -> Response:
    serializer = MoneyInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    user_id = request_user_id(request)
    payment_id = create(
        user_id=user_id,
        wallet_id=data["wallet"],
        funding_source_id=data["funding_source"],
        amount=Money(data["amount"], data["currency"]),
        client_key=request.idempotency_key,  # type: ignore[attr-defined]  # set by @idempotent
    )
    return Response(_detail(user_id, payment_id), status=201)


MONEY_POST_SCHEMA = extend_schema(
    request=MoneyInSerializer,
    responses={201: PaymentDetailSerializer},
    parameters=[IDEMPOTENCY_HEADER],
)


class DepositCreateApi(APIView):
    throttle_scope = "money"  # THROTTLE_MONEY, per user
    domain_errors = PAYMENT_ERRORS

    @MONEY_POST_SCHEMA
    @idempotent
    def post(self, request: Request) -> Response:
        return _money_post(request, services.deposit_create)


class WithdrawalCreateApi(APIView):
    throttle_scope = "money"  # THROTTLE_MONEY, per user
    permission_classes = (IsAuthenticated, RecentStrongAuth)
    domain_errors = (
        *PAYMENT_ERRORS,
        errors.WithdrawalsNotAllowed,
        wallets_services.WalletFrozen,
        services.InsufficientFunds,
    )

    @MONEY_POST_SCHEMA
    @idempotent
    def post(self, request: Request) -> Response:
        return _money_post(request, services.withdrawal_create)


class PaymentPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


class PaymentListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("direction", str, enum=["deposit", "withdrawal"])],
        responses={
            200: page_of("PaymentPage", PaymentSerializer(many=True), links=("next", "previous"))
        },
    )
    def get(self, request: Request) -> Response:
        rows = selectors.payments(
            user_id=request_user_id(request), direction=request.query_params.get("direction")
        )
        paginator = PaymentPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PaymentSerializer(page, many=True).data)


class PaymentDetailApi(APIView):
    domain_errors = (errors.PaymentNotFound,)

    @extend_schema(responses={200: PaymentDetailSerializer})
    def get(self, request: Request, payment_id: UUID) -> Response:
        return Response(_detail(request_user_id(request), payment_id))


class PaymentCancelApi(APIView):
    throttle_scope = "money"  # THROTTLE_MONEY, per user
    domain_errors = (errors.PaymentNotFound, errors.PaymentNotCancelable)

    @extend_schema(
        request=None,
        responses={200: PaymentDetailSerializer},
        description=(
            "Cancel one of your payments while it has not gone to the bank (in review, or "
            "accepted but not yet sent): held money and limit usage are released, and "
            "`cancellation_reason` reads `requested_by_customer`. Cancelling a canceled "
            "payment answers the same (no Idempotency-Key needed). Once sent to the bank it "
            "is 409 `payment_not_cancelable`; another customer's payment is 404 "
            "`payment_not_found`, as a missing one."
        ),
    )
    def post(self, request: Request, payment_id: UUID) -> Response:
        user_id = request_user_id(request)
        services.payment_cancel(user_id=user_id, payment_id=payment_id)
        return Response(_detail(user_id, payment_id))


class WebhookApi(APIView):
    """A provider's callback: verified against the raw body, stored, answered at once; the
    work happens in a task. A known event id is acknowledged again without effect."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    domain_errors = (errors.WebhookRejected,)

    @extend_schema(request=None, responses={200: None})
    def post(self, request: Request, provider: str) -> Response:
        created = services.webhook_receive(
            provider=provider, body=request.body, headers=dict(request.headers)
        )
        return Response({"received": True, "duplicate": not created})
