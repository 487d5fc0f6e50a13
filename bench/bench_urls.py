"""The project's URLs plus a bare DRF endpoint (one indexed SELECT, no auth): the API
benchmark's yardstick. Used only by bench/api_bench.py through ROOT_URLCONF."""

from django.contrib.auth import get_user_model
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BareApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    def get(self, request: Request) -> Response:
        user = (
            get_user_model()
            .objects.filter(pk=int(request.query_params["id"]))
            .values("pk", "email")
            .first()
        )
        return Response(user)


urlpatterns = [path("bench/bare", BareApi.as_view()), path("", include("finstack.urls"))]
