import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core import context

HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and plain, so it cannot forge log lines.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Reset on request_finished (apps.core.apps), not here: Django logs a failed request's
        # "Internal Server Error" line after the middleware chain has returned.
        context.request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response
