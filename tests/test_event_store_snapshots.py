"""The event store's snapshots and upcasting, on every backend of ``migrated_any_db``: saving and
loading snapshots, reading a stream from its snapshot in one statement, and reading old event
shapes as the current one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pytest
from entities_support import RecordingDatabase
from event_store_support import ev

from agentsdb.db.base import Database
from agentsdb.events import (
    NO_STREAM,
    ConcurrencyError,
    EventStore,
    InvalidEventError,
    NewEvent,
    RecordedEvent,
    Upcasters,
)

# --- snapshots -----------------------------------------------------------------------------------


async def test_snapshots_save_load_and_never_move_back(store: EventStore) -> None:
    await store.append("s", [ev(f"e{i}") for i in range(5)], NO_STREAM)
    assert await store.load_snapshot("s") is None

    await store.save_snapshot("s", 4, 2, {"count": 4, "names": ["a", "b"]})
    await store.save_snapshot("s", 3, 2, {"count": 3})  # older: ignored

    snapshot = await store.load_snapshot("s")
    assert snapshot is not None
    assert (snapshot.stream_id, snapshot.version, snapshot.schema_version) == ("s", 4, 2)
    assert snapshot.state == {"count": 4, "names": ["a", "b"]}
    with pytest.raises(InvalidEventError, match="version"):
        await store.save_snapshot("s", 6, 2, {"count": 6})


def summary(events: list[RecordedEvent]) -> list[tuple[int, int, str, Any]]:
    return [(e.position, e.version, e.event_id, e.data) for e in events]


async def test_read_from_snapshot_reads_the_snapshot_and_the_later_events_in_one_statement(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [ev(f"e{i}") for i in range(1, 6)], NO_STREAM)
    await store.save_snapshot("s", 3, 2, {"count": 3})
    appended = await store.append("s", [ev("e6")], 5)
    recording = RecordingDatabase(migrated_any_db)

    read = await EventStore(cast(Database, recording)).read_from_snapshot("s", 2)

    assert len(recording.statements) == 1
    assert read.snapshot is not None
    assert (read.snapshot.version, read.snapshot.schema_version) == (3, 2)
    assert read.snapshot.state == {"count": 3}
    assert summary(read.events) == summary(await store.read_stream("s", from_version=4))
    assert read.head_position == appended.positions[-1]
    assert read.ignored_snapshot is None


async def test_read_from_snapshot_at_the_newest_event_reads_no_event_after_it(
    store: EventStore,
) -> None:
    appended = await store.append("s", [ev("e1"), ev("e2")], NO_STREAM)
    await store.save_snapshot("s", 2, 1, {"count": 2})

    read = await store.read_from_snapshot("s", 1)

    assert read.snapshot is not None
    assert read.snapshot.version == 2
    assert read.events == []
    assert read.head_position == appended.positions[-1]


async def test_read_from_snapshot_of_another_schema_reads_every_event_and_names_it(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [ev(f"e{i}") for i in range(1, 6)], NO_STREAM)
    await store.save_snapshot("s", 3, 1, {"old": "shape"})
    recording = RecordingDatabase(migrated_any_db)

    read = await EventStore(cast(Database, recording)).read_from_snapshot("s", 2)

    assert len(recording.statements) == 1
    assert read.snapshot is None
    assert summary(read.events) == summary(await store.read_stream("s"))
    assert read.ignored_snapshot == (3, 1)


async def test_read_from_snapshot_of_a_version_the_stream_does_not_hold_reads_every_event(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [ev(f"e{i}") for i in range(1, 4)], NO_STREAM)
    await store.save_snapshot("s", 3, 2, {"count": 3})
    await migrated_any_db.execute("UPDATE snapshots SET version = 9 WHERE stream_id = 's'")

    read = await store.read_from_snapshot("s", 2)

    assert read.snapshot is None
    assert [e.version for e in read.events] == [1, 2, 3]
    assert read.ignored_snapshot == (9, 2)


async def test_read_from_snapshot_of_a_stream_without_events_is_empty(store: EventStore) -> None:
    await store.append("gone", [ev("e1")], NO_STREAM)
    await store.save_snapshot("gone", 1, 1, {"count": 1})
    await store.delete_stream("gone")

    for stream_id in ("never", "gone"):
        read = await store.read_from_snapshot(stream_id, 1)
        assert (read.snapshot, read.events, read.head_position) == (None, [], 0)
        assert read.ignored_snapshot is None


async def test_read_from_snapshot_refuses_bad_arguments_before_any_sql(
    migrated_any_db: Database,
) -> None:
    recording = RecordingDatabase(migrated_any_db)
    store = EventStore(cast(Database, recording))
    with pytest.raises(InvalidEventError, match="schema_version"):
        await store.read_from_snapshot("s", 0)
    with pytest.raises(InvalidEventError, match="stream_id"):
        await store.read_from_snapshot("", 1)
    with pytest.raises(InvalidEventError, match="decode"):
        await store.read_from_snapshot("s", 1, decode=cast(bool, "yes"))
    assert not recording.touched


async def test_a_snapshot_saved_with_an_append_commits_with_it(store: EventStore) -> None:
    await store.append("s", [ev("e1")], NO_STREAM)
    steps = store.snapshot_steps("s", 2, 1, {"count": 2})
    await store.append("s", [ev("e2")], 1, with_steps=steps)
    snapshot = await store.load_snapshot("s")
    assert snapshot is not None
    assert snapshot.version == 2

    with pytest.raises(ConcurrencyError):
        await store.append("s", [ev("e3")], 1, with_steps=store.snapshot_steps("s", 3, 1, {}))
    snapshot = await store.load_snapshot("s")
    assert snapshot is not None
    assert snapshot.state == {"count": 2}


# --- upcasting -----------------------------------------------------------------------------------


async def test_stored_v1_events_are_read_as_v2_once_an_upcaster_is_registered(
    migrated_any_db: Database,
) -> None:
    upcasters = Upcasters()
    store = EventStore(migrated_any_db, upcasters=upcasters)
    await store.append(
        "s",
        [
            NewEvent("agent.created", {"name": "Ada Lovelace"}, event_id="v1"),
            NewEvent("agent.created", {"first": "Alan", "last": "Turing"}, "v2", 2),
            NewEvent("agent.renamed", {"name": "Ada"}, event_id="other"),
        ],
        NO_STREAM,
    )

    @upcasters.register("agent.created", from_version=1)
    def split_name(data: Mapping[str, Any]) -> Mapping[str, Any]:
        first, _, last = data["name"].partition(" ")
        return {"first": first, "last": last}

    by_stream = await store.read_stream("s")
    by_all = await store.read_all()
    from_snapshot = (await store.read_from_snapshot("s", 1)).events

    for events in (by_stream, by_all, from_snapshot):
        assert [(e.schema_version, dict(e.data)) for e in events] == [
            (2, {"first": "Ada", "last": "Lovelace"}),
            (2, {"first": "Alan", "last": "Turing"}),
            (1, {"name": "Ada"}),
        ]
    upcasters.add("agent.created", 2, lambda data: {**data, "full": True})
    assert {e.schema_version for e in await store.read_all(types=["agent.created"])} == {3}
    raw = await EventStore(migrated_any_db).read_stream("s")
    assert raw[0].data == {"name": "Ada Lovelace"}  # stored events are never rewritten


def test_an_upcaster_registered_twice_is_refused() -> None:
    upcasters = Upcasters()
    upcasters.add("t", 1, dict)
    with pytest.raises(InvalidEventError, match="already registered"):
        upcasters.add("t", 1, dict)
