import io

import qrcode
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import errors, selectors, services
from apps.accounts.api.permissions import has_role, token_session_request
from apps.accounts.roles import ROLES
from apps.core.api.fields import CurrencyField
from apps.core.users import request_user_id


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    default_currency = serializers.CharField()
    language = serializers.CharField()
    phone = serializers.CharField()
    phone_verified = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())
    mfa_enabled = serializers.BooleanField()
    kyc_tier = serializers.IntegerField(required=False)
    date_joined = serializers.DateTimeField()


class MeApi(APIView):
    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        default_currency = CurrencyField(required=False)
        language = serializers.ChoiceField(
            choices=[code for code, _ in settings.LANGUAGES], required=False
        )
        phone = serializers.CharField(required=False, help_text="Not here: see the error.")

        def validate_phone(self, value: str) -> str:
            raise serializers.ValidationError(
                "A phone number is verified by an SMS code: change it with "
                "POST /_allauth/app/v1/account/phone, then confirm the code at "
                "POST /_allauth/app/v1/auth/phone/verify."
            )

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            ProfileSerializer(selectors.profile_get(user_id=request_user_id(request))).data
        )

    @extend_schema(request=InputSerializer, responses={200: ProfileSerializer})
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.user_update_profile(user_id=request_user_id(request), **serializer.validated_data)
        return Response(
            ProfileSerializer(selectors.profile_get(user_id=request_user_id(request))).data
        )


class MeCloseApi(APIView):
    domain_errors = (errors.AccountNotEmpty, errors.AccountBusy, errors.AccountClosed)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.user_close(user_id=request_user_id(request))
        return Response(status=204)


class TotpQrCodeApi(APIView):
    """The pending TOTP secret as a QR code PNG, for a second device's authenticator app."""

    domain_errors = (errors.TotpSetupNotStarted,)

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        carrier = token_session_request(request)
        secret = carrier.session.get(SECRET_SESSION_KEY) if carrier else None
        if not secret:
            raise errors.TotpSetupNotStarted()
        image = qrcode.make(get_mfa_adapter().build_totp_url(request.user, secret))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        response = HttpResponse(buffer.getvalue(), content_type="image/png")
        response["Cache-Control"] = "no-store"
        return response


class CustomerApi(APIView):
    """Staff look a customer up (support, compliance, operations)."""

    permission_classes = (has_role(*ROLES),)

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request, user_id: int) -> Response:
        if selectors.user_get(user_id=user_id) is None:
            raise NotFound()
        return Response(ProfileSerializer(selectors.profile_get(user_id=user_id)).data)
