"""Stored rows as the event store's values: one function per table, on the read path."""

from __future__ import annotations

from agentsdb.db.base import Row
from agentsdb.events.types import RecordedEvent, Snapshot
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


def snapshot(row: Row) -> Snapshot:
    """A ``snapshots`` row as a Snapshot."""
    return Snapshot(
        row["stream_id"],
        int(row["version"]),
        int(row["schema_version"]),
        decode_json(row["state"]),
        row["recorded_at"],
    )


__all__ = ["recorded", "snapshot"]
