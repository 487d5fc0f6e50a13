"""Views that exercise the API plumbing; mounted only by tests (pytest.mark.urls)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.throttling import AnonRateThrottle
from apps.core.errors import DomainError
from apps.core.events import publish
from apps.core.tests.events import SomethingHappened

OK = inline_serializer("Ok", {"ok": serializers.BooleanField()})


class Overdrawn(DomainError):
    code, message = "insufficient_funds", "Not enough money."


class TightThrottle(AnonRateThrottle):
    rate = "2/min"
    scope = "tight"


class PlumbingApi(APIView):
    permission_classes = (AllowAny,)
    throttle_classes = ()

    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1)

    @extend_schema(request=InputSerializer, responses={201: InputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"amount": serializer.validated_data["amount"]}, status=201)

    @extend_schema(responses={200: OK})
    def get(self, request):
        kind = request.query_params.get("fail")
        if kind == "domain":
            raise Overdrawn(available=5)
        if kind == "django_validation":
            raise DjangoValidationError({"email": ["Enter a valid email address."]})
        if kind == "crash":
            raise RuntimeError("secret internals must not leak")
        return Response({"ok": True})


class ThrottledApi(APIView):
    permission_classes = (AllowAny,)
    throttle_classes = (TightThrottle,)

    @extend_schema(responses={200: OK})
    def get(self, request):
        return Response({"ok": True})


class PrivateApi(APIView):
    @extend_schema(responses={200: OK})
    def get(self, request):
        return Response({"ok": True})


class PublishApi(APIView):
    """A write that needs no Redis: commits a change and its event."""

    permission_classes = (AllowAny,)

    @extend_schema(request=None, responses={201: OK})
    @transaction.atomic
    def post(self, request):
        event_id = publish(SomethingHappened(label=request.data.get("label", "x")))
        return Response({"event_id": str(event_id)}, status=201)


urlpatterns = [
    path("api/v1/plumbing", PlumbingApi.as_view()),
    path("api/v1/throttled", ThrottledApi.as_view()),
    path("api/v1/private", PrivateApi.as_view()),
    path("api/v1/publish", PublishApi.as_view()),
    path("", include("finstack.urls")),
]
