"""The event store's vocabulary: expected versions, events to append, events as recorded."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias


class StreamState(enum.Enum):
    """An expected version that is not a number."""

    NO_STREAM = "no stream"
    """The stream must hold no event: never appended to, or deleted since."""
    ANY = "any"
    """No check: append after whatever the stream holds."""
    STREAM_EXISTS = "stream exists"
    """The stream must already hold at least one event."""


NO_STREAM: Final = StreamState.NO_STREAM
ANY: Final = StreamState.ANY
STREAM_EXISTS: Final = StreamState.STREAM_EXISTS

#: What ``append`` checks before it writes: a state above, or the version of the stream's newest
#: event (versions start at 1).
ExpectedVersion: TypeAlias = StreamState | int


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``event_id`` makes a retried append idempotent: the same ids with the
    same content return the first append's result and write nothing."""

    type: str
    data: Mapping[str, Any]
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = 1
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: ``position`` is global, never reused, and orders commits;
    ``version`` counts the events of its stream from 1 without gaps."""

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: Mapping[str, Any]
    metadata: Mapping[str, Any]
    recorded_at: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append wrote: the stream's version after it and the positions of its events."""

    stream_id: str
    first_version: int
    last_version: int
    positions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream's state as of ``version``, written by ``schema_version`` of its state's shape.

    A snapshot is a cache: a reader whose state shape is newer than ``schema_version`` ignores it
    and rebuilds from the events.
    """

    stream_id: str
    version: int
    schema_version: int
    state: Mapping[str, Any]
    recorded_at: str
