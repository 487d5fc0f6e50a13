"""One API document: allauth's headless OpenAPI spec merged into drf-spectacular's.

allauth builds its spec with an internal function (allauth is pinned to one minor version in
requirements/base.in; test_openapi covers this hook). Its component names are prefixed so they
cannot collide with ours, and its operations get the operationIds they lack.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

PREFIX = "Allauth"


def _allauth_spec() -> dict[str, Any]:
    from allauth.headless.spec.internal.schema import get_schema

    return get_schema()


def _prefixed(spec: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(spec)
    text = re.sub(r'"#/components/(\w+)/([^"]+)"', rf'"#/components/\1/{PREFIX}\2"', text)
    spec = json.loads(text)
    spec["components"] = {
        section: {f"{PREFIX}{name}": value for name, value in items.items()}
        for section, items in spec.get("components", {}).items()
    }
    return spec


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", path.split("/v1/", 1)[-1].lower()).strip("_")
    # The browser client's paths repeat the app client's: its ids must differ from theirs.
    client = "browser_" if path.startswith("/_allauth/browser/") else ""
    return f"allauth_{client}{words}_{method}"


def _per_client(spec: dict[str, Any]) -> dict[str, Any]:
    """With several clients allauth writes one `/_allauth/{client}/...` path each: spelled out
    per client instead, so each client's paths (and generated client code) stay concrete."""
    parameter = f"#/components/parameters/{PREFIX}Client"
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if "{client}" not in path:
            paths[path] = item
            continue
        for client in settings.HEADLESS_CLIENTS:
            concrete = json.loads(json.dumps(item))
            for operation in concrete.values():
                if isinstance(operation, dict) and "parameters" in operation:
                    operation["parameters"] = [
                        p for p in operation["parameters"] if p.get("$ref") != parameter
                    ]
            paths[path.replace("{client}", client)] = concrete
    spec["paths"] = paths
    spec.get("components", {}).get("parameters", {}).pop(f"{PREFIX}Client", None)
    return spec


def merge_allauth_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict:
    spec = _per_client(_prefixed(_allauth_spec()))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                operation.setdefault("operationId", _operation_id(method, path))
        result["paths"][path] = item
    components = result.setdefault("components", {})
    for section, items in spec["components"].items():
        components.setdefault(section, {}).update(items)
    known = {tag["name"] for tag in result.get("tags", [])}
    result.setdefault("tags", []).extend(t for t in spec.get("tags", []) if t["name"] not in known)
    return result


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer fsk_...` (apps.accounts.authentication.ApiKeyAuthentication)."""

    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fsk_ API key",
            "description": "A machine credential issued in the admin; only routes that name "
            "a scope accept it.",
        }
