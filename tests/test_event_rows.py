"""The event store reads its rows by position: the select lists, the column names and the
constructor they feed must agree, on every backend."""

from __future__ import annotations

import inspect

from agentsdb.db.base import Database
from agentsdb.events import EventStore, NewEvent, RecordedEvent
from agentsdb.queries.events import EVENT_FIELDS, SNAPSHOT_ON_EVENT_FIELDS, EventQueries


def test_event_fields_are_the_stored_constructors_arguments_in_order() -> None:
    arguments = [
        name
        for name, parameter in inspect.signature(RecordedEvent.stored).parameters.items()
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    assert tuple(arguments) == EVENT_FIELDS


async def test_every_events_read_selects_the_event_fields_in_order(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [NewEvent("thing.happened", {"n": 1}, "e1", 2, {"by": "me"})], 0)
    await store.save_snapshot("s", 1, 1, {"n": 1})
    params = {
        "stream_id": "s",
        "from_version": 1,
        "to_version": 9,
        "after": 0,
        "limit": 9,
        "type_0": "thing.happened",
        "id_0": "e1",
        "schema_version": 1,
    }
    reads = {
        "read_stream": (EventQueries.read_stream, EVENT_FIELDS),
        "read_all": (EventQueries.read_all, EVENT_FIELDS),
        "read_all_of_types": (EventQueries.read_all_of_types(1), EVENT_FIELDS),
        "by_event_ids": (EventQueries.by_event_ids(1), EVENT_FIELDS),
        "read_from_snapshot": (
            EventQueries.read_from_snapshot,
            EVENT_FIELDS + SNAPSHOT_ON_EVENT_FIELDS,
        ),
    }
    for name, (sql, fields) in reads.items():
        used = {key: value for key, value in params.items() if f":{key}" in sql}
        (row,) = await migrated_any_db.fetch_all(sql, used)
        assert tuple(row) == fields, name
        (values,) = await migrated_any_db.fetch_values(sql, used)
        assert values == tuple(row.values()), name

    (event,) = await store.read_stream("s")
    assert (event.position, event.version, event.type, event.schema_version) == (
        1,
        1,
        "thing.happened",
        2,
    )
    assert (event.data, event.metadata, event.data_json) == ({"n": 1}, {"by": "me"}, '{"n":1}')
