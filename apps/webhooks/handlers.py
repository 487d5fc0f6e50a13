"""Every event of the catalogue becomes deliveries to the endpoints that want it."""

import dataclasses
from uuid import UUID

from apps.accounts import events as _accounts_events  # noqa: F401 - fill Event.registry
from apps.core import context
from apps.core.events import Event, subscribe
from apps.kyc import events as _kyc_events  # noqa: F401
from apps.ledger import events as _ledger_events  # noqa: F401
from apps.payments import events as _payments_events  # noqa: F401
from apps.wallets import events as _wallets_events  # noqa: F401
from apps.webhooks import services
from apps.webhooks.catalog import EVENT_TYPES


def on_domain_event(event: Event) -> None:
    services.deliveries_for_event(
        event_id=UUID(str(context.event_id.get())),
        event_type=event.name,
        payload=dataclasses.asdict(event),
    )


for _name in EVENT_TYPES:
    subscribe(Event.registry[_name])(on_domain_event)
