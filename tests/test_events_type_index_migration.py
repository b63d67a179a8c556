"""Migration 015 on every backend: the event store keeps no index on ``events.type``; down
puts it back. Events stored across the change read back the same, with or without a filter."""

from __future__ import annotations

import agentsdb
from agentsdb.db.base import Database
from agentsdb.events import NO_STREAM, EventStore, NewEvent


def event(event_id: str, event_type: str) -> NewEvent:
    return NewEvent(type=event_type, data={"id": event_id}, event_id=event_id)


async def test_015_drops_the_type_index_and_down_restores_it_keeping_every_event(
    migrated_any_db: Database,
) -> None:
    db = migrated_any_db
    migrator = agentsdb.Migrator(db)
    store = EventStore(db)
    assert await db.table_indexes("events") == ()

    assert [r.migration_id for r in await migrator.rollback_to("014")] == ["015"]
    assert await db.table_indexes("events") == ("events_type_position",)
    await store.append("a", [event("a1", "x"), event("a2", "y")], NO_STREAM)

    assert [r.migration_id for r in await migrator.migrate()] == ["015"]
    assert await db.table_indexes("events") == ()
    await store.append("b", [event("b1", "y"), event("b2", "z")], NO_STREAM)

    everything = await store.read_all()
    assert [e.event_id for e in everything] == ["a1", "a2", "b1", "b2"]
    chosen = await store.read_all(types=["y", "z"])
    assert [e.event_id for e in chosen] == ["a2", "b1", "b2"]
    paged = await store.read_all(after=chosen[0].position, limit=1, types=["y", "z"])
    assert [e.event_id for e in paged] == ["b1"]
