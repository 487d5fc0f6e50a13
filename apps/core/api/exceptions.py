"""One JSON error shape for every API error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
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
    if isinstance(exc, exceptions.Throttled):
        details = {"retry_after": exc.wait and int(exc.wait + 0.999)}
        return "throttled", "Too many requests; retry later.", details
    return exc.default_code, str(exc.detail), {}


def exception_handler(exc: Exception, ctx: dict[str, Any]) -> Response:
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
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
