from apps.core.errors import Conflict, DomainError, NotFound


class EndpointNotFound(NotFound):
    code, message = "webhook_endpoint_not_found", "No such webhook endpoint."


class DeliveryNotFound(NotFound):
    code, message = "webhook_delivery_not_found", "No such webhook delivery."


class UrlRefused(DomainError):
    code, http_status = "webhook_url_refused", 422
    message = "This URL cannot receive webhooks."


class UnknownEventType(DomainError):
    code, http_status = "webhook_event_type_unknown", 422
    message = "An event type is not in the catalogue."


class EndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
    message = "The endpoint is disabled: enable it first."


class EventTypeNotAllowed(DomainError):
    code, http_status = "webhook_event_type_not_allowed", 422
    message = "An API key's endpoint receives only the ledger events of its namespace."
