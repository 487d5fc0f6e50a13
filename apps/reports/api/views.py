from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts_selectors
from apps.core.users import request_user_id
from apps.ledger import selectors as ledger_selectors
from apps.reports import selectors
from apps.reports.statements import Statement, as_csv, as_pdf, month_bounds
from apps.wallets import selectors as wallets_selectors

WALLET = OpenApiParameter("wallet", UUID, required=True)


def _account(request: Request, wallet_id: UUID) -> wallets_selectors.WalletAccount:
    return wallets_selectors.wallet_account(wallet_id=wallet_id, user_id=request_user_id(request))


class SummaryApi(APIView):
    domain_errors = (wallets_selectors.WalletNotFound,)

    class QuerySerializer(serializers.Serializer):
        wallet = serializers.UUIDField()
        since = serializers.DateField()
        until = serializers.DateField()

    @extend_schema(
        parameters=[
            WALLET,
            OpenApiParameter("from", date, description="default: 1 January this year"),
            OpenApiParameter("to", date, description="default: today"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        params, today = request.query_params, timezone.now().date()
        query = self.QuerySerializer(
            data={
                "wallet": params.get("wallet"),
                "since": params.get("from") or date(today.year, 1, 1).isoformat(),
                "until": params.get("to") or today.isoformat(),
            }
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        account = _account(request, data["wallet"]).ledger_account_id
        return Response(
            selectors.summary(account_id=account, since=data["since"], until=data["until"])
        )


class FormatIsOurs(DefaultContentNegotiation):
    """`?format=csv|pdf` picks the statement's file type here, not a DRF renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


class StatementApi(APIView):
    domain_errors = (wallets_selectors.WalletNotFound,)
    content_negotiation_class = FormatIsOurs

    class QuerySerializer(serializers.Serializer):
        wallet = serializers.UUIDField()
        month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$")
        format = serializers.ChoiceField(choices=["csv", "pdf"], default="pdf")

    @extend_schema(
        parameters=[
            WALLET,
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("format", str, enum=["csv", "pdf"]),
        ],
        responses={(200, "application/pdf"): bytes, (200, "text/csv"): bytes},
    )
    def get(self, request: Request) -> HttpResponse:
        query = self.QuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        wallet = _account(request, data["wallet"])
        month = date.fromisoformat(f"{data['month']}-01")
        start, end = month_bounds(month)
        opening, lines = ledger_selectors.statement(
            account_id=wallet.ledger_account_id, since=start, until=end
        )
        holder = accounts_selectors.user_get(user_id=request_user_id(request))
        if holder is None:  # the user row went between the login check and here
            raise NotFound()
        statement = Statement(
            holder=holder.display_name,
            wallet_id=str(wallet.wallet_id),
            currency=wallet.currency,
            month=month,
            opening=opening,
            lines=lines,
            closing=lines[-1].balance if lines else opening,
        )
        name = f"finstack-{data['month']}-{str(wallet.wallet_id)[:8]}.{data['format']}"
        if data["format"] == "csv":
            response = HttpResponse(as_csv(statement), content_type="text/csv")
        else:
            response = HttpResponse(as_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
