"""allauth's JSON endpoints, made to fit the house rules."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_otp.middleware import OTPMiddleware
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
ALLAUTH_PREFIX = "/_allauth/"
ADMIN_PREFIX = "/admin/"
# allauth's per-action windows are a minute or less, except the per-account login lockout,
# whose exact remaining time the account adapter works out.
DEFAULT_RETRY_AFTER = 60
# allauth 65.21's phone view reads the user it sets for GET and POST only: any other method
# from someone signed out (PUT, DELETE, OPTIONS, HEAD...) was a 500. It serves GET and POST.
PHONE_VIEW = re.compile(r"^/_allauth/[a-z]+/v1/account/phone$")
PHONE_METHODS = ("GET", "POST")
BAD_BODY: dict[type[Exception], tuple[int, str, str]] = {
    RequestDataTooBig: (413, "request_too_large", "The request body is too large."),
    RecursionError: (400, "invalid", "The request body is nested too deeply."),
}


class AllauthMiddleware:
    """Each allauth write runs in one transaction, so the change and its domain events (user
    created, password changed, MFA changed...) commit together; a refusal says when to retry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(ALLAUTH_PREFIX):
            return self.get_response(request)
        if PHONE_VIEW.match(request.path) and request.method not in PHONE_METHODS:
            body = {
                "status": 405,
                "errors": [{"code": "method_not_allowed", "message": "Method not allowed."}],
            }
            refusal = JsonResponse(body, status=405)
            refusal["Allow"] = ", ".join(PHONE_METHODS)
            return refusal
        if request.method in ("GET", "HEAD", "OPTIONS"):
            response = self.get_response(request)
        else:
            with transaction.atomic():
                response = self.get_response(request)
        return self._with_retry_after(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Login counters live in Redis: without it, refuse (fail closed) with a clear 503 in
        allauth's error shape rather than a 500 page."""
        if request.path.startswith(ALLAUTH_PREFIX) and type(exception) in BAD_BODY:
            # allauth reads request.body and json.loads it itself: a body over
            # DATA_UPLOAD_MAX_MEMORY_SIZE or nested too deeply would be a 500 (or an HTML 400).
            status, code, message = BAD_BODY[type(exception)]
            if transaction.get_connection().in_atomic_block:
                transaction.set_rollback(True)
            body = {"status": status, "errors": [{"code": code, "message": message}]}
            return JsonResponse(body, status=status)
        if request.path.startswith(ALLAUTH_PREFIX) and isinstance(exception, RedisError):
            logger.error("allauth refused: Redis unavailable (%s)", exception)
            if transaction.get_connection().in_atomic_block:
                transaction.set_rollback(True)  # nothing half-written
            body = {
                "status": 503,
                "errors": [
                    {
                        "code": "service_unavailable",
                        "message": "Sign-in is briefly unavailable; retry in a moment.",
                    }
                ],
            }
            response = JsonResponse(body, status=503)
            response["Retry-After"] = "30"
            return response
        return None

    def _with_retry_after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        retry_after = getattr(request, "retry_after", None)
        if retry_after is None and response.status_code == 429:
            retry_after = DEFAULT_RETRY_AFTER
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response


class AdminOTPMiddleware(OTPMiddleware):
    """django-otp's middleware for the admin only. Elsewhere its wrapper around request.user
    would pin the user read before allauth swaps in the token's session (every allauth call
    with an access token would then look anonymous)."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return super().__call__(request)
        return self.get_response(request)
