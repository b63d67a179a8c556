"""The event store's vocabulary: expected versions, events to append, events as recorded."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

from agentsdb.models._record import decode_json


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
    ``version`` counts the events of its stream from 1 without gaps.

    An event read from the store also holds its ``data`` and ``metadata`` as the JSON text they
    were stored as (``data_json``, ``metadata_json``), for readers that validate the text
    themselves in one pass (pydantic's ``model_validate_json``). A read with ``decode=False``
    decodes each of them only on first access, with the rule every JSON column of agentsdb is
    read by, so such a reader never pays for decoding. Equality, ``repr`` and
    ``dataclasses.replace`` see the decoded values; an event built by ``replace`` or by the
    constructor holds no JSON text (``data_json`` is ``None``).
    """

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: Mapping[str, Any]
    metadata: Mapping[str, Any]
    recorded_at: str
    data_json: str | None = field(default=None, init=False, compare=False, repr=False)
    """The data's JSON text exactly as stored, or ``None``: the data was given as a mapping, or
    an upcaster changed it on read. Decoding it gives ``data``."""
    metadata_json: str | None = field(default=None, init=False, compare=False, repr=False)
    """The metadata's JSON text exactly as stored, or ``None``."""

    @classmethod
    def stored(
        cls,
        position: int,
        stream_id: str,
        version: int,
        event_id: str,
        type: str,
        schema_version: int,
        data: object,
        metadata: object,
        recorded_at: str,
        *,
        decode: bool = True,
    ) -> RecordedEvent:
        """An event from its row: ``data`` and ``metadata`` are the JSON columns' values as the
        database returned them. JSON text is kept (``data_json``, ``metadata_json``) and, with
        ``decode=False``, decoded only on first access; any other value (a mapping an upcaster
        returned) is decoded now, by the same rule."""
        event = cls.__new__(cls)
        _set_position(event, position)
        _set_stream_id(event, stream_id)
        _set_version(event, version)
        _set_event_id(event, event_id)
        _set_type(event, type)
        _set_schema_version(event, schema_version)
        _set_recorded_at(event, recorded_at)
        # A value held as text leaves its slot unset, for __getattr__ to fill on first access.
        if isinstance(data, str):
            _set_data_json(event, data)
            if decode:
                _set_data(event, decode_json(data))
        else:
            _set_data_json(event, None)
            _set_data(event, decode_json(data))
        if isinstance(metadata, str):
            _set_metadata_json(event, metadata)
            if decode:
                _set_metadata(event, decode_json(metadata))
        else:
            _set_metadata_json(event, None)
            _set_metadata(event, decode_json(metadata))
        return event

    if not TYPE_CHECKING:  # mypy would take every unknown attribute for a lazy one

        def __getattr__(self, name: str) -> Any:
            # Reached only for an unset slot: data or metadata still held as JSON text.
            if name == "data" and self.data_json is not None:
                value = decode_json(self.data_json)
            elif name == "metadata" and self.metadata_json is not None:
                value = decode_json(self.metadata_json)
            else:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            _set_field[name](self, value)
            return value


# The slots' own setters, which a frozen dataclass's __setattr__ does not reach: a store read
# builds thousands of events, and these are three times cheaper than object.__setattr__.
_set_field: Final[dict[str, Callable[[RecordedEvent, object], None]]] = {
    item.name: vars(RecordedEvent)[item.name].__set__ for item in fields(RecordedEvent)
}
_set_position = _set_field["position"]
_set_stream_id = _set_field["stream_id"]
_set_version = _set_field["version"]
_set_event_id = _set_field["event_id"]
_set_type = _set_field["type"]
_set_schema_version = _set_field["schema_version"]
_set_data = _set_field["data"]
_set_data_json = _set_field["data_json"]
_set_metadata = _set_field["metadata"]
_set_metadata_json = _set_field["metadata_json"]
_set_recorded_at = _set_field["recorded_at"]


class DeletionListener(Protocol):
    """Told of every stream an ``EventStore`` deleted (such as a cache of the streams' states,
    which must not outlive them)."""

    def stream_deleted(self, stream_id: str) -> None:
        """``stream_id`` was deleted (or its deletion failed, so it may have been)."""


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


@dataclass(frozen=True, slots=True)
class StreamFromSnapshot:
    """A stream as :meth:`~agentsdb.events.store.EventStore.read_from_snapshot` read it.

    ``snapshot`` is its stored snapshot of the state schema asked for, or None when it has
    none that applies; ``events`` are the events after the snapshot (every event without one),
    oldest first; ``head_position`` is the position of the stream's newest event (0 when the
    stream holds none). ``ignored_snapshot`` is the ``(version, schema_version)`` of a stored
    snapshot that was not used (of another state schema, or of a version the stream does not
    hold), for a reader that rebuilds it.
    """

    snapshot: Snapshot | None
    events: list[RecordedEvent]
    head_position: int
    ignored_snapshot: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of :meth:`~agentsdb.events.store.EventStore.read_page`: the events it kept, and
    how far it read.

    ``scanned_to`` is a position to read on from: every event the read keeps (of ``types``)
    with a position above ``after`` and up to ``scanned_to`` is in ``events``. It is the last
    event's position when the page is full, else the newest position the read saw, so a reader
    of rare types moves past the other events once instead of reading them again at each poll.
    It is never below ``after``.
    """

    events: list[RecordedEvent]
    scanned_to: int
