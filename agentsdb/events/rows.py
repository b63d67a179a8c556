"""Stored rows as the event store's values: one function per table, on the read path."""

from __future__ import annotations

from agentsdb.db.base import Row
from agentsdb.events.types import RecordedEvent, Snapshot, StreamFromSnapshot
from agentsdb.events.upcasting import Upcasters
from agentsdb.models._record import decode_json


def recorded(row: Row, upcasters: Upcasters | None, decode: bool = True) -> RecordedEvent:
    """An ``events`` row as a RecordedEvent, its data upcast when an upcaster applies.

    The JSON columns are selected as text on every backend; the event keeps that text and, with
    ``decode=False``, decodes it only on first access (see :meth:`RecordedEvent.stored`).
    """
    event_type = row["type"]
    schema_version = row["schema_version"]
    data = row["data"]
    if upcasters is not None and upcasters.applies_to(event_type, schema_version):
        data, schema_version = upcasters.upcast(event_type, schema_version, decode_json(data))
    return RecordedEvent.stored(
        row["position"],
        row["stream_id"],
        row["version"],
        row["event_id"],
        event_type,
        schema_version,
        data,
        row["metadata"],
        row["recorded_at"],
        decode=decode,
    )


def snapshot_on_event(row: Row) -> Snapshot:
    """The snapshot that a ``read_from_snapshot`` row carries beside its event (the row must
    carry one)."""
    return Snapshot(
        row["stream_id"],
        int(row["version"]),  # taken at this row's event
        int(row["snapshot_schema_version"]),
        decode_json(row["snapshot_state"]),
        row["snapshot_recorded_at"],
    )


def stream_from_snapshot(
    rows: list[Row], schema_version: int, upcasters: Upcasters | None, decode: bool
) -> StreamFromSnapshot | None:
    """The stream that ``read_from_snapshot``'s rows hold; None when they hold no event (the
    stream is empty, or its snapshot is of a version it does not hold: read it from version 1).
    """
    if not rows:
        return None
    first = rows[0]
    if first["snapshot_state"] is not None and first["snapshot_schema_version"] == schema_version:
        return StreamFromSnapshot(
            snapshot_on_event(first),
            [recorded(row, upcasters, decode) for row in rows[1:]],
            int(rows[-1]["position"]),
            None,
        )
    # Read from version 1: at most one row carries a snapshot, one of another state schema.
    ignored = next(
        (
            (int(row["version"]), int(row["snapshot_schema_version"]))
            for row in rows
            if row["snapshot_schema_version"] is not None
        ),
        None,
    )
    return StreamFromSnapshot(
        None, [recorded(row, upcasters, decode) for row in rows], int(rows[-1]["position"]), ignored
    )


def snapshot(row: Row) -> Snapshot:
    """A ``snapshots`` row as a Snapshot."""
    return Snapshot(
        row["stream_id"],
        int(row["version"]),
        int(row["schema_version"]),
        decode_json(row["state"]),
        row["recorded_at"],
    )


__all__ = ["recorded", "snapshot", "snapshot_on_event", "stream_from_snapshot"]
