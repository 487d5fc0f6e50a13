"""The scope check of the API routes that take an API key (apps.core.machine)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.machine import MachinePrincipal


def principal(request: Request) -> MachinePrincipal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, MachinePrincipal) else None


class ApiKeyRequired(PermissionDenied):
    default_code = "api_key_required"
    default_detail = "This endpoint takes an API key (Authorization: Bearer fsk_...)."


class ScopeMissing(PermissionDenied):
    default_code = "scope_missing"
    default_detail = "This API key lacks the scope this request needs."


class ScopeRequired(BasePermission):
    """The view's `required_scopes[method]` (e.g. {"GET": "ledger:read"}); API keys only."""

    error_codes = (ApiKeyRequired.default_code, ScopeMissing.default_code)

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = principal(request)
        if caller is None:
            if not (request.user and request.user.is_authenticated):
                return False  # 401: no credentials at all
            raise ApiKeyRequired()
        needed = view.required_scopes.get(request.method)
        if needed is None or not caller.has(needed):
            raise ScopeMissing(f"This API key lacks the scope {needed!r}.")
        return True
