"""Stored rows as the event store's values: one function per table, on the read path."""

from __future__ import annotations

from agentsdb.db.base import Row
from agentsdb.events.types import RecordedEvent, Snapshot
from agentsdb.events.upcasting import Upcasters
from agentsdb.models._record import decode_json


def recorded(row: Row, upcasters: Upcasters | None) -> RecordedEvent:
    """An ``events`` row as a RecordedEvent, its data upcast when an upcaster applies."""
    data = decode_json(row["data"])
    schema_version = row["schema_version"]
    event_type = row["type"]
    if upcasters is not None and upcasters.applies_to(event_type, schema_version):
        data, schema_version = upcasters.upcast(event_type, schema_version, data)
    return RecordedEvent(
        row["position"],
        row["stream_id"],
        row["version"],
        row["event_id"],
        event_type,
        schema_version,
        data,
        decode_json(row["metadata"]),
        row["recorded_at"],
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
