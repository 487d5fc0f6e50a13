"""A test event and handlers that record what they saw."""

from dataclasses import dataclass

from apps.core.events import Event, subscribe

seen: list[tuple[str, str]] = []
failures_left: dict[str, int] = {}


@dataclass(frozen=True)
class SomethingHappened(Event):
    name = "core_tests.something_happened"
    label: str


@subscribe(SomethingHappened)
def on_something_happened(event: SomethingHappened) -> None:
    if failures_left.get(event.label, 0) > 0:
        failures_left[event.label] -= 1
        raise ConnectionError("downstream flaked")
    seen.append(("first", event.label))


@subscribe(SomethingHappened)
def on_something_happened_too(event: SomethingHappened) -> None:
    seen.append(("second", event.label))
