from uuid import UUID

import iso3166
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import page_of
from apps.core.api.parsers import MultiPartParser
from apps.core.api.schema import error_schema
from apps.core.users import request_user_id
from apps.kyc import errors, selectors, services
from apps.kyc.models import Document, Profile

COUNTRIES = sorted(iso3166.countries_by_alpha2)


class KycProfileSerializer(serializers.Serializer):
    legal_first_name = serializers.CharField(max_length=100)
    legal_last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    nationality = serializers.ChoiceField(choices=COUNTRIES)
    address_line = serializers.CharField(max_length=200)
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    country = serializers.ChoiceField(choices=COUNTRIES)
    tax_id = serializers.RegexField(r"^[A-Za-z0-9 -]{4,40}$", required=False, allow_blank=True)


class ProfileInputSerializer(KycProfileSerializer):
    reverify = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Required to change details an approved case verified (legal name, date of birth, "
            "nationality; the address too after tier 2): the approval ends, the tier drops to "
            "what is still verified and a new draft case opens. Without it such a change is "
            "409 `identity_locked`, its `details.fields` naming the locked fields."
        ),
    )


class ProfileApi(APIView):
    domain_errors = (errors.TooYoung,)

    @extend_schema(
        responses={
            200: KycProfileSerializer,
            404: OpenApiResponse(error_schema(["not_found"]), description="No profile yet"),
        }
    )
    def get(self, request: Request) -> Response:
        profile = Profile.objects.filter(user_id=request_user_id(request)).first()
        if profile is None:
            raise NotFound("No profile yet.")
        return Response(KycProfileSerializer(profile).data)

    @extend_schema(
        request=ProfileInputSerializer,
        responses={200: KycProfileSerializer},
        description=(
            "Create or replace the profile. Verified details are locked once a case is "
            'approved: changing them needs `"reverify": true` (see that field).'
        ),
    )
    def put(self, request: Request) -> Response:
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.profile_save(user_id=request_user_id(request), **serializer.validated_data)
        return Response(KycProfileSerializer(serializer.validated_data).data)

    put.domain_errors = (errors.IdentityLocked, errors.CaseNotOpen)  # type: ignore[attr-defined]


class DocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    review = serializers.CharField()
    reason_code = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)
    uploaded_at = serializers.DateTimeField()


class DocumentListApi(APIView):
    parser_classes = (MultiPartParser,)
    domain_errors = (
        errors.FileTooLarge,
        errors.FileTypeNotAllowed,
        errors.FileActiveContent,
        errors.FileCorrupt,
        errors.CaseNotOpen,
    )

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=Document.Type.choices)
        file = serializers.FileField()
        number = serializers.CharField(max_length=60, required=False, default="")
        expires_on = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(responses={200: page_of("DocumentList", DocumentSerializer(many=True))})
    def get(self, request: Request) -> Response:
        rows = selectors.documents(user_id=request_user_id(request))
        return Response({"results": DocumentSerializer(rows, many=True).data})

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses={201: DocumentSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        if upload.size > settings.KYC_MAX_UPLOAD_BYTES:  # before reading it into memory
            raise errors.FileTooLarge(max_bytes=settings.KYC_MAX_UPLOAD_BYTES)
        document_id = services.document_add(
            user_id=request_user_id(request),
            type=data["type"],
            data=upload.read(),
            number=data["number"],
            expires_on=data["expires_on"],
        )
        document = Document.objects.get(pk=document_id)
        return Response(DocumentSerializer(document).data, status=201)


class SubmitApi(APIView):
    domain_errors = (
        errors.ProfileIncomplete,
        errors.DocumentsMissing,
        errors.CaseNotOpen,
        errors.AlreadyAtTier,
    )

    class InputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(choices=[1, 2])

    @extend_schema(request=InputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_submit(
            user_id=request_user_id(request), target_tier=serializer.validated_data["tier"]
        )
        return Response(selectors.status(user_id=request_user_id(request)))


class CaseWithdrawApi(APIView):
    domain_errors = (errors.CaseNotFound, errors.CaseNotWithdrawable)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField(source="case_id")
        state = serializers.CharField()
        withdrawn_at = serializers.DateTimeField()

    @extend_schema(
        request=None,
        responses={200: OutputSerializer},
        description=(
            "Withdraw one of your verification cases while it is open (draft, submitted, in "
            "review, waiting for a second reviewer, or waiting for new documents). Asking "
            "again for a withdrawn case answers the same. A decided case (approved, rejected, "
            "expired) is 409 `case_not_withdrawable`; another customer's case is 404 "
            "`case_not_found`, as a missing one."
        ),
    )
    def post(self, request: Request, case_id: UUID) -> Response:
        result = services.case_withdraw(user_id=request_user_id(request), case_id=case_id)
        return Response(self.OutputSerializer(result).data)


class StatusApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(selectors.status(user_id=request_user_id(request)))


class VendorWebhookApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    parser_classes = (JSONParser,)
    domain_errors = (errors.WebhookRejected,)

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, provider: str) -> Response:
        created = services.vendor_webhook(
            provider=provider, body=request.body, headers=dict(request.headers)
        )
        return Response({"received": True, "duplicate": not created})
