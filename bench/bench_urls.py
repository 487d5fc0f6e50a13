"""The project's URLs plus the API benchmark's yardsticks, used only by bench/api_bench.py
through ROOT_URLCONF:

- `bench/bare`: a bare DRF endpoint, one indexed SELECT, no authentication (the target's
  yardstick).
- `bench/authenticated`: the same SELECT behind what every money POST passes first: the API's
  JWT authentication, permission and throttles (the `money` scope), with the transfer's body.
- `bench/idempotent`: that, plus `@idempotent` and the transfer's input validation, and no
  transfer. The transfer costs what it adds to this one."""

from django.contrib.auth import get_user_model
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import idempotent
from apps.wallets.api.views import TransferCreateApi


def _user_row(request: Request) -> dict | None:
    return (
        get_user_model()
        .objects.filter(pk=int(request.query_params["id"]))
        .values("pk", "email")
        .first()
    )


class BareApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    def get(self, request: Request) -> Response:
        return Response(_user_row(request))


class AuthenticatedApi(APIView):
    throttle_scope = "money"

    def post(self, request: Request) -> Response:
        request.data  # noqa: B018 - parsed, as the transfer's body is
        return Response(_user_row(request))


class IdempotentApi(APIView):
    throttle_scope = "money"

    @idempotent
    def post(self, request: Request) -> Response:
        TransferCreateApi.InputSerializer(data=request.data).is_valid(raise_exception=True)
        return Response(_user_row(request), status=201)


urlpatterns = [
    path("bench/bare", BareApi.as_view()),
    path("bench/authenticated", AuthenticatedApi.as_view()),
    path("bench/idempotent", IdempotentApi.as_view()),
    path("", include("finstack.urls")),
]
