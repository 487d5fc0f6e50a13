"""drf-spectacular schema class that documents every error an operation can return.

Each operation gets the shared error shape under each status it can answer with, and the enum
of stable codes for that status: the framework's (validation, auth, throttling, 404, 500) plus
the `DomainError` classes a view lists in `domain_errors`.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from apps.core.errors import DomainError

_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Business rule refused the request",
    429: "Throttled (see Retry-After)",
    500: "Internal error",
    503: "Service unavailable",
}


def error_schema(codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "enum": codes},
                    "message": {"type": "string"},
                    "details": {"type": "object", "additionalProperties": True},
                },
            }
        },
    }


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        """Nested `InputSerializer`s of different views get distinct component names:
        `TransferCreateApi.InputSerializer` becomes `TransferCreateInput`."""
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.rsplit(".", 1)
            return outer.removesuffix("Api") + inner
        return super().get_serializer_name(serializer, direction)

    def get_auth(self) -> list[dict[str, list[str]]]:
        """API keys on the routes that take them (they name scopes), nowhere else; those
        routes take nothing but keys."""
        auth = super().get_auth()
        keys = bool(getattr(self.view, "required_scopes", None))
        return [a for a in auth if ("apiKey" in a) == keys]

    def _error_codes(self) -> dict[int, set[str]]:
        # Any operation may meet the database going away: 503, retry (Retry-After).
        codes: dict[int, set[str]] = {500: {"internal_error"}, 503: {"service_unavailable"}}
        if self.method in ("POST", "PUT", "PATCH"):
            codes[400] = {"validation_error", "parse_error"}
            codes[413] = {"request_too_large"}
            codes[415] = {"unsupported_media_type"}
        if self.method in ("GET",) and (self._is_list_view() or self._is_cursor_page()):
            codes.setdefault(404, set()).add("not_found")  # an invalid cursor
        if "{" in self.path:  # a path parameter: no such row, or one the user may not see
            codes.setdefault(404, set()).add("not_found")
        if self.method == "GET" and self._filters_by_query():
            codes[400] = {"validation_error"}
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes[401] = {"not_authenticated", "authentication_failed"}
            codes[403] = {"permission_denied"}
            for permission in self.view.get_permissions():  # e.g. mfa_required
                codes[403] |= set(getattr(permission, "error_codes", ()))
        if self.view.get_throttles():
            codes[429] = {"throttled"}
        handler = getattr(self.view, self.method.lower(), None)
        errors: tuple[type[DomainError], ...] = (
            *getattr(self.view, "domain_errors", ()),
            *getattr(handler, "domain_errors", ()),
        )
        for error in errors:
            codes.setdefault(error.http_status, set()).add(error.code)
        return codes

    def map_parsers(self) -> list[str]:
        """Money endpoints (`@idempotent`) read JSON only, whatever the view's parsers."""
        handler = getattr(self.view, self.method.lower(), None)
        if getattr(handler, "json_only", False):
            return ["application/json"]
        return super().map_parsers()

    def _page_fields(self) -> set[str]:
        """The fields of a page answer (`page_of(...)`: results and its links), else empty."""
        responses = self.get_response_serializers()
        ok = responses.get(200) if isinstance(responses, dict) else responses
        fields = set(ok.fields) if isinstance(ok, serializers.Serializer) else set()
        return fields if "results" in fields else set()

    def _is_cursor_page(self) -> bool:
        return "next" in self._page_fields()

    def get_operation_id(self) -> str:
        """A page is a list: `wallets_list`, as for a bare array (stable client method names)."""
        operation_id = super().get_operation_id()
        if self.method == "GET" and self._page_fields():
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def _filters_by_query(self) -> bool:
        """Query parameters besides the cursor pagination's are validated: 400 when invalid."""
        params = self._get_parameters()
        return any(p["in"] == "query" and p["name"] not in ("cursor", "page_size") for p in params)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for status, codes in sorted(self._error_codes().items()):
            operation["responses"].setdefault(
                str(status),
                {
                    "description": _DESCRIPTIONS.get(status, "Error"),
                    "content": {"application/json": {"schema": error_schema(sorted(codes))}},
                },
            )
        return operation
