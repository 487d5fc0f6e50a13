"""Domain errors: each has a stable `code` (in the OpenAPI schema) and an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    http_status = 422
    message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or self.message
        self.details = details
        super().__init__(self.message)


class NotFound(DomainError):
    code, http_status, message = "not_found", 404, "Not found."


class Conflict(DomainError):
    code, http_status, message = "conflict", 409, "The resource is in a conflicting state."


class ServiceUnavailable(DomainError):
    code, http_status, message = "service_unavailable", 503, "A required service is unavailable."
