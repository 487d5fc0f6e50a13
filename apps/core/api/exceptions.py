"""One JSON error shape for every API error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from apps.core import context
from apps.core.errors import DomainError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _describe(exc: exceptions.APIException, data: Any) -> tuple[str, str, dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        details = data if isinstance(data, dict) else {"non_field_errors": data}
        return "validation_error", "The request is invalid.", details
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # DRF's message echoes the client's Content-Type (boundary included): keep ours stable.
        return "unsupported_media_type", "This media type is not accepted here.", {}
    if isinstance(exc, exceptions.Throttled):
        details = {"retry_after": exc.wait and int(exc.wait + 0.999)}  # type: ignore[attr-defined]
        return "throttled", "Too many requests; retry later.", details
    return exc.default_code, str(exc.detail), {}


# Django raises these while reading a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many
# fields/files); inside a DRF view they would otherwise fall through to a 500.
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
DATABASE_AWAY = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER = 5


def exception_handler(exc: Exception, ctx: dict[str, Any]) -> Response:
    response: Response | None
    if isinstance(exc, TOO_LARGE):
        set_rollback()
        return Response(
            error_body("request_too_large", "The request body is too large.", {}), status=413
        )
    if isinstance(exc, DomainError):
        set_rollback()
        response = Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
        if "retry_after" in exc.details:
            response["Retry-After"] = str(exc.details["retry_after"])
        return response
    if isinstance(exc, DATABASE_AWAY):
        # The connection broke (a failover, a terminated backend): the transaction died with
        # it, nothing was written, and the same request with its Idempotency-Key is safe to
        # send again shortly.
        log.error("database unavailable: %s", exc)
        with contextlib.suppress(Exception):  # the broken connection may refuse even this
            set_rollback()
        response = Response(
            error_body(
                "service_unavailable",
                "The service is briefly unavailable; retry in a moment.",
                {"request_id": context.request_id.get(), "retry_after": DATABASE_RETRY_AFTER},
            ),
            status=503,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    response = drf_exception_handler(exc, ctx)
    if response is None:
        set_rollback()
        log.exception("unhandled API error", exc_info=exc)
        body = error_body(
            "internal_error",
            "An internal error occurred.",
            {"request_id": context.request_id.get()},
        )
        return Response(body, status=500)
    if not isinstance(exc, exceptions.APIException):  # Http404 / PermissionDenied from Django
        exc = (
            exceptions.NotFound() if response.status_code == 404 else exceptions.PermissionDenied()
        )
    response.data = error_body(*_describe(exc, response.data))
    return response
