"""The event store: streams of events with optimistic concurrency, commit-ordered global reads,
snapshots and upcasting (see ``docs/events.md``)::

    from agentsdb.events import EventStore, NewEvent, NO_STREAM

    store = EventStore(db)
    await store.append("agent-1", [NewEvent(type="agent.created", data={...})], NO_STREAM)
    events = await store.read_stream("agent-1")
    page = await store.read_all(after=0, limit=1000)
    page = await store.read_page(after=0, limit=1000, types=["agent.created.v1"])  # + scanned_to
"""

from __future__ import annotations

from agentsdb.errors import ConcurrencyError, EventIdConflictError, InvalidEventError
from agentsdb.events.projector import (
    EventReader,
    Projection,
    Projector,
    ProjectorConflictError,
    UnknownProjectionError,
)
from agentsdb.events.store import EVENTS_CHANNEL, Eraser, EventStore
from agentsdb.events.types import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    DeletionListener,
    EventPage,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamFromSnapshot,
    StreamState,
)
from agentsdb.events.upcasting import Upcaster, Upcasters

__all__ = [
    "ANY",
    "EVENTS_CHANNEL",
    "NO_STREAM",
    "STREAM_EXISTS",
    "AppendResult",
    "ConcurrencyError",
    "DeletionListener",
    "Eraser",
    "EventIdConflictError",
    "EventPage",
    "EventReader",
    "EventStore",
    "ExpectedVersion",
    "InvalidEventError",
    "NewEvent",
    "Projection",
    "Projector",
    "ProjectorConflictError",
    "RecordedEvent",
    "Snapshot",
    "StreamFromSnapshot",
    "StreamState",
    "UnknownProjectionError",
    "Upcaster",
    "Upcasters",
]
