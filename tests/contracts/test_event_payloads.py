"""Every registered event's payload has exactly its dataclass's fields.

Events written by SQL (the ledger's posting functions, the wallets' transfer statement) build
their payload by hand; `decode()` is lenient about missing or extra keys, so the check here is
strict: a stored row's keys must equal the dataclass's field names.
"""

import dataclasses
import importlib
import uuid
from typing import Any

import pytest
from django.apps import apps as django_apps

from apps.core.events import Event, decode
from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.ledger import services as ledger_services
from apps.ledger.tests.factories import open_wallet_account
from apps.wallets import services as wallet_services
from apps.wallets.tests.factories import make_wallet

# Types whose payload is built in SQL, checked from rows the real operations store.
SQL_EMITTED = {
    "ledger.transaction_posted",
    "ledger.hold_created",
    "ledger.hold_posted",
    "ledger.hold_voided",
    "wallets.transfer_completed",
}


def _load_every_events_module() -> None:
    for config in django_apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.events")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.events":
                raise


_load_every_events_module()


def decode_strictly(event_type: str, payload: dict[str, Any]) -> Event:
    cls = Event.registry[event_type]
    expected = {field.name for field in dataclasses.fields(cls)}
    if set(payload) != expected:
        missing, extra = sorted(expected - set(payload)), sorted(set(payload) - expected)
        raise AssertionError(f"{event_type}: missing {missing}, extra {extra}")
    return decode(event_type, payload)


def _sample(annotation: object) -> Any:
    text = str(annotation)
    if "None" in text:
        return None
    for marker, value in (("list", []), ("dict", {}), ("int", 1), ("bool", True)):
        if marker in text:
            return value
    return "x"


def _instance(cls: type[Event]) -> Event:
    return cls(**{field.name: _sample(field.type) for field in dataclasses.fields(cls)})


@pytest.mark.parametrize("event_type", sorted(set(Event.registry) - SQL_EMITTED))
def test_python_event_round_trips_strictly(event_type):
    event = _instance(Event.registry[event_type])
    payload = dataclasses.asdict(event)
    assert decode_strictly(event_type, payload) == event


@pytest.mark.django_db
def test_sql_emitted_payloads_have_exactly_the_dataclass_fields():
    alice, bob = open_wallet_account(funded=10_000), open_wallet_account()
    posted = ledger_services.transfer_post(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(500, "EUR"),
        idempotency_key=f"contract-{uuid.uuid4()}",
    )
    ledger_services.transaction_reverse(
        transaction_id=posted.transaction_id,
        idempotency_key=f"contract-{uuid.uuid4()}",
        reason="contract test",
    )
    for_post = ledger_services.hold_create(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(300, "EUR"),
        idempotency_key=f"contract-{uuid.uuid4()}",
    )
    ledger_services.hold_post(hold_id=for_post.hold_id)
    for_void = ledger_services.hold_create(
        debit_account_id=alice,
        credit_account_id=bob,
        amount=Money(200, "EUR"),
        idempotency_key=f"contract-{uuid.uuid4()}",
    )
    ledger_services.hold_void(hold_id=for_void.hold_id)
    source, target = make_wallet(funded=5_000), make_wallet()
    wallet_services.transfer_create(
        source_wallet_id=source.pk,
        destination=str(target.pk),
        amount=Money(100, "EUR"),
        requested_by_id=source.owner_id,
        idempotency_key=f"contract-{uuid.uuid4()}",
    )

    rows = OutboxEvent.objects.filter(type__in=SQL_EMITTED)
    assert {row.type for row in rows} == SQL_EMITTED
    for row in rows:
        decode_strictly(row.type, row.payload)


@pytest.mark.parametrize("change", ["extra", "missing"])
def test_strict_check_rejects_a_payload_with_other_keys(change):
    event_type = "ledger.hold_voided"
    payload = dataclasses.asdict(_instance(Event.registry[event_type]))
    if change == "extra":
        payload["surplus"] = 1
    else:
        payload.pop("status")
    with pytest.raises(AssertionError, match=change):
        decode_strictly(event_type, payload)
