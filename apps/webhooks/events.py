"""Facts apps.webhooks publishes (outbox)."""

import dataclasses

from apps.core.events import Event


@dataclasses.dataclass(frozen=True)
class EndpointDisabled(Event):
    """An endpoint stopped receiving deliveries: by hand, or by the failure rule (`automatic`)."""

    name = "webhooks.endpoint_disabled"
    endpoint_id: str
    reason: str
    automatic: bool


@dataclasses.dataclass(frozen=True)
class EndpointEnabled(Event):
    name = "webhooks.endpoint_enabled"
    endpoint_id: str
