"""Upcasting: stored events of an old shape are read as the current shape.

Events are never rewritten. When the shape of an event type's data changes, register a pure
function that turns data of schema version N into data of version N + 1; a read applies the
chain from the stored version to the newest registered one::

    upcasters = Upcasters()

    @upcasters.register("agent.created", from_version=1)
    def split_name(data):
        first, _, last = data["name"].partition(" ")
        return {**{k: v for k, v in data.items() if k != "name"}, "first": first, "last": last}

    store = EventStore(db, upcasters=upcasters)

Only events whose (type, schema version) has an upcaster pay anything beyond a dictionary
lookup; events already in the newest shape are returned as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from agentsdb.errors import InvalidEventError
from agentsdb.events.validation import check_name, check_positive

#: A pure function from one schema version's data to the next one's.
Upcaster: TypeAlias = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class Upcasters:
    """A registry of upcasters keyed by (event type, schema version they read)."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def __bool__(self) -> bool:
        return bool(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def add(self, event_type: str, from_version: int, upcaster: Upcaster) -> None:
        """Register ``upcaster`` for events of ``event_type`` stored at ``from_version``.

        It receives the data of that version and returns the data of ``from_version + 1``.
        Registering a second one for the same type and version is refused.
        """
        check_name("event_type", event_type)
        check_positive("from_version", from_version)
        if not callable(upcaster):
            raise InvalidEventError("upcaster", f"must be callable, got {type(upcaster).__name__}")
        key = (event_type, from_version)
        if key in self._steps:
            raise InvalidEventError(
                "upcaster",
                f"one is already registered for {event_type[:60]!r} at version {from_version}",
            )
        self._steps[key] = upcaster

    def register(self, event_type: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`add`; returns the function unchanged."""

        def decorate(upcaster: Upcaster) -> Upcaster:
            self.add(event_type, from_version, upcaster)
            return upcaster

        return decorate

    def upcast(
        self, event_type: str, schema_version: int, data: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], int]:
        """``data`` of ``schema_version`` carried up the chain: (new data, its version)."""
        steps = self._steps
        step = steps.get((event_type, schema_version))
        while step is not None:
            upcast = step(data)
            if not isinstance(upcast, Mapping):
                raise InvalidEventError(
                    f"upcaster of {event_type[:60]!r} at version {schema_version}",
                    f"returned a {type(upcast).__name__}, not a mapping",
                )
            data = upcast
            schema_version += 1
            step = steps.get((event_type, schema_version))
        return data, schema_version

    def applies_to(self, event_type: str, schema_version: int) -> bool:
        """Whether an event of this type stored at this version is read in another shape."""
        return (event_type, schema_version) in self._steps


__all__ = ["Upcaster", "Upcasters"]
