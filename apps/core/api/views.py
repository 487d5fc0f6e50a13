from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core import context
from apps.core.api.exceptions import error_body


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@throttle_classes([])
def not_found(request: Request, /, *args: object, **kwargs: object) -> Response:
    """Unknown /api/ paths answer in the API's error shape, not with an HTML page."""
    raise NotFound()


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON for the API (errors raised outside DRF views), HTML elsewhere."""
    if request.path.startswith("/api/"):
        body = error_body(
            "internal_error",
            "An internal error occurred.",
            {"request_id": context.request_id.get()},
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
