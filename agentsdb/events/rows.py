"""Stored rows as the event store's values: one function per table, on the read path.

Events are read with ``Database.fetch_values``: each row is a tuple of the columns
:data:`~agentsdb.queries.events.EVENT_FIELDS` names, in that order (and, for
``read_from_snapshot``, :data:`~agentsdb.queries.events.SNAPSHOT_ON_EVENT_FIELDS` after them),
so a read of thousands of events builds no dict per row. ``read_page`` adds the newest
position the read saw after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from agentsdb.db.base import Row
from agentsdb.events.types import EventPage, RecordedEvent, Snapshot, StreamFromSnapshot
from agentsdb.events.upcasting import Upcasters
from agentsdb.models._record import decode_json
from agentsdb.queries.events import EVENT_FIELDS, SNAPSHOT_ON_EVENT_FIELDS

#: The values of a row read by position.
EventValues = Sequence[Any]

_WIDTH: Final = len(EVENT_FIELDS)
_POSITION: Final = EVENT_FIELDS.index("position")
_STREAM_ID: Final = EVENT_FIELDS.index("stream_id")
_VERSION: Final = EVENT_FIELDS.index("version")
_TYPE: Final = EVENT_FIELDS.index("type")
_SCHEMA_VERSION: Final = EVENT_FIELDS.index("schema_version")
_DATA: Final = EVENT_FIELDS.index("data")
_SNAPSHOT_SCHEMA_VERSION: Final = _WIDTH + SNAPSHOT_ON_EVENT_FIELDS.index("snapshot_schema_version")
_SNAPSHOT_STATE: Final = _WIDTH + SNAPSHOT_ON_EVENT_FIELDS.index("snapshot_state")
_SNAPSHOT_RECORDED_AT: Final = _WIDTH + SNAPSHOT_ON_EVENT_FIELDS.index("snapshot_recorded_at")

# The first _WIDTH values of a row are RecordedEvent.stored's arguments, in its order
# (tests/test_event_rows.py holds EVENT_FIELDS to that order).
_stored = RecordedEvent.stored


def recorded(row: EventValues, upcasters: Upcasters | None, decode: bool = True) -> RecordedEvent:
    """An events row (its values in :data:`EVENT_FIELDS` order, more may follow) as a
    RecordedEvent, its data upcast when an upcaster applies.

    The JSON columns are selected as text on every backend; the event keeps that text and, with
    ``decode=False``, decodes it only on first access (see :meth:`RecordedEvent.stored`).
    """
    if upcasters is not None and upcasters.applies_to(row[_TYPE], row[_SCHEMA_VERSION]):
        values = list(row[:_WIDTH])
        values[_DATA], values[_SCHEMA_VERSION] = upcasters.upcast(
            row[_TYPE], row[_SCHEMA_VERSION], decode_json(row[_DATA])
        )
        return _stored(*values, decode=decode)
    # A tuple of exactly these columns slices to itself.
    return _stored(*row[:_WIDTH], decode=decode)


def snapshot_on_event(row: EventValues) -> Snapshot:
    """The snapshot that a ``read_from_snapshot`` row carries beside its event (the row must
    carry one)."""
    return Snapshot(
        row[_STREAM_ID],
        int(row[_VERSION]),  # taken at this row's event
        int(row[_SNAPSHOT_SCHEMA_VERSION]),
        decode_json(row[_SNAPSHOT_STATE]),
        row[_SNAPSHOT_RECORDED_AT],
    )


def stream_from_snapshot(
    rows: Sequence[EventValues], schema_version: int, upcasters: Upcasters | None, decode: bool
) -> StreamFromSnapshot | None:
    """The stream that ``read_from_snapshot``'s rows hold; None when they hold no event (the
    stream is empty, or its snapshot is of a version it does not hold: read it from version 1).
    """
    if not rows:
        return None
    first = rows[0]
    head_position = int(rows[-1][_POSITION])
    if first[_SNAPSHOT_STATE] is not None and first[_SNAPSHOT_SCHEMA_VERSION] == schema_version:
        return StreamFromSnapshot(
            snapshot_on_event(first),
            [recorded(row, upcasters, decode) for row in rows[1:]],
            head_position,
            None,
        )
    # Read from version 1: at most one row carries a snapshot, one of another state schema.
    ignored = next(
        (
            (int(row[_VERSION]), int(row[_SNAPSHOT_SCHEMA_VERSION]))
            for row in rows
            if row[_SNAPSHOT_SCHEMA_VERSION] is not None
        ),
        None,
    )
    return StreamFromSnapshot(
        None, [recorded(row, upcasters, decode) for row in rows], head_position, ignored
    )


def event_page(
    rows: Sequence[EventValues],
    after: int,
    limit: int,
    upcasters: Upcasters | None,
    decode: bool,
) -> EventPage:
    """The page that ``read_page``'s rows hold: each row's event (none when the one row's event
    columns are NULL) and, after them, the newest position the read saw."""
    events = [recorded(row, upcasters, decode) for row in rows if row[_POSITION] is not None]
    if len(events) >= limit:
        return EventPage(events, events[-1].position)
    head = int(rows[0][_WIDTH]) if rows else after
    return EventPage(events, max(after, head))


def snapshot(row: Row) -> Snapshot:
    """A ``snapshots`` row as a Snapshot."""
    return Snapshot(
        row["stream_id"],
        int(row["version"]),
        int(row["schema_version"]),
        decode_json(row["state"]),
        row["recorded_at"],
    )


__all__ = [
    "EventValues",
    "event_page",
    "recorded",
    "snapshot",
    "snapshot_on_event",
    "stream_from_snapshot",
]
