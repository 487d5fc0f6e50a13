"""Which events exist and who handles them: the `Event` base, `subscribe`, `handlers_for` and
`decode`. Import-light, so that the delivery and relay modules below `apps.core.events` can
read it without importing `events`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar


@dataclasses.dataclass(frozen=True)
class Event:
    """Base of every domain event; subclasses set `name` as "<app>.<entity>_<past>"."""

    name: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Event]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            raise TypeError(f"{cls.__name__} must set a name.")
        Event.registry[cls.name] = cls


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]
_handlers: dict[str, dict[str, Handler]] = {}


def subscribe(event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Register a handler (called from an AppConfig.ready() import of handlers.py)."""

    def register(handler: Callable[[E], None]) -> Callable[[E], None]:
        key = f"{handler.__module__}.{handler.__qualname__}"
        _handlers.setdefault(event_type.name, {})[key] = handler
        return handler

    return register


def handlers_for(event_type: str) -> dict[str, Handler]:
    return dict(_handlers.get(event_type, {}))


def decode(event_type: str, payload: dict[str, Any]) -> Event:
    return Event.registry[event_type](**payload)
