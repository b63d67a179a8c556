"""The event store's contract, on every backend of ``migrated_any_db``: expected versions,
idempotent and conflicting retries, gapless versions, reads, positions never reused after a
delete, refused input, and races between connections (snapshots and upcasting:
``test_event_store_snapshots.py``).
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Coroutine
from typing import Any, cast

import pytest
from entities_support import RecordingDatabase
from event_store_support import ev, everything

import agentsdb
from agentsdb.db.base import Database, Execute, Step
from agentsdb.errors import (
    AgentsDBError,
    CheckViolationError,
    IntegrityError,
    UniqueViolationError,
)
from agentsdb.events import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ConcurrencyError,
    EventIdConflictError,
    EventStore,
    ExpectedVersion,
    InvalidEventError,
    NewEvent,
    RecordedEvent,
)

# --- expected versions ---------------------------------------------------------------------------


async def test_each_expected_version_appends_when_it_holds(store: EventStore) -> None:
    first = await store.append("s", [ev("e1"), ev("e2")], NO_STREAM)
    assert (first.first_version, first.last_version) == (1, 2)
    assert first.positions[0] < first.positions[1]
    assert (await store.append("s", [ev("e3")], STREAM_EXISTS)).last_version == 3
    assert (await store.append("s", [ev("e4")], 3)).last_version == 4
    assert (await store.append("s", [ev("e5")], ANY)).last_version == 5
    assert (await store.append("new", [ev("e6")], ANY)).first_version == 1
    assert (await store.append("zero", [ev("e7")], 0)).first_version == 1
    assert await store.current_version("s") == 5
    assert await store.current_version("missing") == 0


@pytest.mark.parametrize("expected", [1, ANY, STREAM_EXISTS])
@pytest.mark.parametrize("count", [1, 2, 4, 5, 9])
async def test_an_append_reports_the_positions_and_versions_it_wrote_whatever_its_size(
    store: EventStore, count: int, expected: ExpectedVersion
) -> None:
    # Small appends take each position as the insert reports it (a numeric expected version,
    # on a backend that reports insert keys) or read it back with the row; larger ones read
    # the rows at the end.
    await store.append("s", [ev("first")], NO_STREAM)
    await store.append("other", [ev("between")], NO_STREAM)

    result = await store.append("s", [ev(f"e{i}") for i in range(count)], expected)

    stored = [event for event in await store.read_stream("s") if event.version > 1]
    assert (result.first_version, result.last_version) == (2, count + 1)
    assert result.positions == tuple(event.position for event in stored)
    assert [event.event_id for event in stored] == [f"e{i}" for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 6])
async def test_a_new_streams_append_reports_the_positions_it_wrote(
    store: EventStore, count: int
) -> None:
    await store.append("other", [ev("before")], NO_STREAM)
    await store.delete_stream("other")  # a position no later event may take

    result = await store.append("s", [ev(f"e{i}") for i in range(count)], NO_STREAM)

    stored = await store.read_stream("s")
    assert (result.first_version, result.last_version) == (1, count)
    assert result.positions == tuple(event.position for event in stored)
    assert result.positions[0] > 1


@pytest.mark.parametrize(
    ("expected", "actual_setup"),
    [(NO_STREAM, 2), (STREAM_EXISTS, 0), (1, 2), (3, 2), (2, 0)],
)
async def test_an_expected_version_that_does_not_hold_raises_with_the_actual_version(
    store: EventStore, expected: ExpectedVersion, actual_setup: int
) -> None:
    if actual_setup:
        await store.append("s", [ev(f"e{i}") for i in range(actual_setup)], NO_STREAM)
    before = await everything(store)

    with pytest.raises(ConcurrencyError) as raised:
        await store.append("s", [ev("late-1"), ev("late-2")], expected)

    assert (raised.value.stream_id, raised.value.expected) == ("s", expected)
    assert raised.value.actual == actual_setup
    assert await everything(store) == before


async def test_versions_are_gapless_across_appends_and_streams(store: EventStore) -> None:
    for round_ in range(3):
        await store.append("a", [ev(f"a{round_}-{i}") for i in range(3)], ANY)
        await store.append("b", [ev(f"b{round_}")], ANY)
    assert [e.version for e in await store.read_stream("a")] == list(range(1, 10))
    assert [e.version for e in await store.read_stream("b")] == [1, 2, 3]
    positions = [e.position for e in await everything(store)]
    assert positions == sorted(positions)
    assert len(set(positions)) == 12


# --- retries -------------------------------------------------------------------------------------


async def test_a_retry_with_the_same_ids_and_content_returns_the_first_result_and_writes_nothing(
    store: EventStore,
) -> None:
    events = [ev("r1", n=1), ev("r2", n=2)]
    await store.append("other", [ev("o1")], NO_STREAM)
    first = await store.append("s", events, NO_STREAM)
    await store.append("s", [ev("r3")], 2)
    before = await everything(store)

    again = await store.append("s", events, NO_STREAM)
    also = await store.append("s", events, ANY)

    assert again == also == first
    assert await everything(store) == before


@pytest.mark.parametrize(
    "retry",
    [
        [NewEvent("thing.happened", {"n": 2}, event_id="r1")],  # other data
        [NewEvent("other.type", {"n": 1}, event_id="r1")],  # other type
        [NewEvent("thing.happened", {"n": 1}, event_id="r1", metadata={"by": "x"})],
        [NewEvent("thing.happened", {"n": 1}, event_id="r1", schema_version=2)],
        [ev("r1", n=1), ev("fresh")],  # some ids stored, some not
        [ev("r2", n=2), ev("r1", n=1)],  # the same events in another order
    ],
    ids=["data", "type", "metadata", "schema_version", "partial", "order"],
)
async def test_the_same_ids_with_other_content_are_refused(
    store: EventStore, retry: list[NewEvent]
) -> None:
    await store.append("s", [ev("r1", n=1), ev("r2", n=2)], NO_STREAM)
    before = await everything(store)
    with pytest.raises(EventIdConflictError):
        await store.append("s", retry, ANY)
    assert await everything(store) == before


async def test_an_event_id_stored_in_another_stream_is_refused(store: EventStore) -> None:
    await store.append("s", [ev("shared")], NO_STREAM)
    with pytest.raises(EventIdConflictError, match="in stream 's'"):
        await store.append("t", [ev("shared")], NO_STREAM)
    assert await store.current_version("t") == 0


# --- reads ---------------------------------------------------------------------------------------


async def test_read_stream_returns_the_asked_range_in_version_order(store: EventStore) -> None:
    await store.append("s", [ev(f"e{i}", n=i) for i in range(1, 11)], NO_STREAM)
    await store.append("t", [ev("t1")], NO_STREAM)

    assert [e.version for e in await store.read_stream("s", from_version=4)] == list(range(4, 11))
    window = await store.read_stream("s", from_version=3, to_version=5)
    assert [(e.version, e.data["n"]) for e in window] == [(3, 3), (4, 4), (5, 5)]
    assert await store.read_stream("s", from_version=11) == []
    assert await store.read_stream("nothing") == []
    recorded = (await store.read_stream("t"))[0]
    assert (recorded.stream_id, recorded.event_id, recorded.type) == ("t", "t1", "thing.happened")
    assert recorded.recorded_at.endswith("Z")
    assert recorded.metadata == {}


async def test_read_all_pages_by_position_and_filters_by_type(store: EventStore) -> None:
    for i in range(10):
        kind = "even.happened" if i % 2 == 0 else "odd.happened"
        await store.append(f"s{i % 3}", [ev(f"e{i}", kind, n=i)], ANY)

    pages: list[list[RecordedEvent]] = []
    after = 0
    while page := await store.read_all(after=after, limit=3):
        pages.append(page)
        after = page[-1].position
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    seen = [e.data["n"] for page in pages for e in page]
    assert seen == list(range(10))

    odd = await store.read_all(types=["odd.happened"])
    assert [e.data["n"] for e in odd] == [1, 3, 5, 7, 9]
    both = await store.read_all(types=("odd.happened", "even.happened"), after=odd[1].position)
    assert [e.data["n"] for e in both] == [4, 5, 6, 7, 8, 9]
    assert await store.read_all(types=[]) == []


async def test_data_and_metadata_round_trip_exactly(store: EventStore) -> None:
    data = {
        "z": 1,
        "a": [1, 2.5, None, True, "text"],
        "nested": {"deep": {"\u00e9t\u00e9": "\u2603", "nul": "a\x00b"}},
        "big": 2**70,
    }
    await store.append("s", [NewEvent("t.t", data, event_id="x", metadata={"by": "me"})], ANY)
    (recorded,) = await store.read_stream("s")
    assert recorded.data == data
    assert list(recorded.data) == ["z", "a", "nested", "big"]  # key order kept
    assert recorded.metadata == {"by": "me"}


# --- delete, positions ---------------------------------------------------------------------------


async def test_positions_are_never_reused_after_delete_stream(store: EventStore) -> None:
    await store.append("keep", [ev("k1")], NO_STREAM)
    written = await store.append("gone", [ev("g1"), ev("g2")], NO_STREAM)
    highest = max(written.positions)

    assert await store.delete_stream("gone") == 2
    assert await store.read_stream("gone") == []
    again = await store.append("gone", [ev("g3")], NO_STREAM)

    assert again.first_version == 1
    assert again.positions[0] > highest


async def test_delete_stream_removes_the_snapshot_and_erased_rows_in_one_unit(
    migrated_any_db: Database,
) -> None:
    await migrated_any_db.execute("CREATE TABLE projected (stream_id TEXT PRIMARY KEY)")
    store = EventStore(migrated_any_db)

    def erase(stream_id: str) -> list[Step]:
        return [Execute("DELETE FROM projected WHERE stream_id = :s", {"s": stream_id})]

    store.register_eraser(erase)
    for stream in ("a", "b"):
        await store.append(stream, [ev(f"{stream}1")], NO_STREAM)
        await store.save_snapshot(stream, 1, 1, {"n": 1})
        await migrated_any_db.execute("INSERT INTO projected VALUES (:s)", {"s": stream})

    await store.delete_stream("a")

    assert await store.load_snapshot("a") is None
    assert await store.load_snapshot("b") is not None
    remaining = await migrated_any_db.fetch_all("SELECT stream_id FROM projected")
    assert [row["stream_id"] for row in remaining] == ["b"]
    assert [e.stream_id for e in await everything(store)] == ["b"]


async def test_a_failing_eraser_leaves_the_stream_in_place(migrated_any_db: Database) -> None:
    await migrated_any_db.execute("CREATE TABLE projected (stream_id TEXT PRIMARY KEY)")
    await migrated_any_db.execute("INSERT INTO projected VALUES ('dup')")

    def erase(stream_id: str) -> list[Step]:
        return [Execute("INSERT INTO projected VALUES ('dup')")]

    store = EventStore(migrated_any_db, erasers=[erase])
    await store.append("s", [ev("e1")], NO_STREAM)
    await store.save_snapshot("s", 1, 1, {"n": 1})

    with pytest.raises(UniqueViolationError):
        await store.delete_stream("s")

    assert len(await store.read_stream("s")) == 1
    assert await store.load_snapshot("s") is not None


# --- steps in the same unit ----------------------------------------------------------------------


async def test_with_steps_commit_with_the_events_and_a_failing_step_writes_nothing(
    migrated_any_db: Database,
) -> None:
    await migrated_any_db.execute(
        "CREATE TABLE summary (stream_id TEXT PRIMARY KEY, total INTEGER NOT NULL)"
    )
    store = EventStore(migrated_any_db)
    upsert = Execute(
        "INSERT INTO summary VALUES (:s, 1) "
        "ON CONFLICT (stream_id) DO UPDATE SET total = summary.total + 1",
        {"s": "s"},
    )
    await store.append("s", [ev("e1")], NO_STREAM, with_steps=[upsert])
    bad = Execute("INSERT INTO summary VALUES (:s, NULL)", {"s": "other"})

    with pytest.raises(CheckViolationError):  # summary.total is NOT NULL
        await store.append("s", [ev("e2")], 1, with_steps=[upsert, bad])

    assert await store.current_version("s") == 1
    row = await migrated_any_db.fetch_one("SELECT total FROM summary WHERE stream_id = 's'")
    assert row == {"total": 1}


# --- refused input -------------------------------------------------------------------------------

Call = Callable[[EventStore], Coroutine[Any, Any, Any]]


def nested(key: str, depth: int, leaf: object) -> dict[str, Any]:
    value: Any = leaf
    for _ in range(depth):
        value = {key: value}
    return value


BAD_CALLS: list[tuple[str, Call]] = [
    ("stream_id", lambda s: s.append("", [ev("x")], ANY)),
    ("stream_id", lambda s: s.append(None, [ev("x")], ANY)),  # type: ignore[arg-type]  # bad on purpose
    ("stream_id", lambda s: s.append("x" * 100_000, [ev("x")], ANY)),
    ("stream_id", lambda s: s.append("a\x00b", [ev("x")], ANY)),
    ("stream_id", lambda s: s.append("\ud800", [ev("x")], ANY)),
    ("events", lambda s: s.append("s", [], ANY)),
    ("events", lambda s: s.append("s", ev("x"), ANY)),  # type: ignore[arg-type]  # bad on purpose
    ("events[1]", lambda s: s.append("s", [ev("x"), {"type": "t"}], ANY)),  # type: ignore[list-item]  # bad on purpose
    ("events[1].event_id", lambda s: s.append("s", [ev("x"), ev("x")], ANY)),
    ("events[0].event_id", lambda s: s.append("s", [NewEvent("t", {}, "")], ANY)),
    ("events[0].type", lambda s: s.append("s", [NewEvent("", {}, "x")], ANY)),
    ("events[0].schema_version", lambda s: s.append("s", [NewEvent("t", {}, "x", 0)], ANY)),
    ("events[0].data", lambda s: s.append("s", [NewEvent("t", [1], "x")], ANY)),  # type: ignore[arg-type]  # bad on purpose
    ("events[0].data.n", lambda s: s.append("s", [NewEvent("t", {"n": float("nan")}, "x")], ANY)),
    ("events[0].data.t", lambda s: s.append("s", [NewEvent("t", {"t": (1, 2)}, "x")], ANY)),
    ("events[0].data", lambda s: s.append("s", [NewEvent("t", {1: "int key"}, "x")], ANY)),
    (
        ("events[0].data" + ".level" * 60)[:77] + "...",
        lambda s: s.append("s", [NewEvent("t", nested("level", 60, float("nan")), "x")], ANY),
    ),
    ("events[0].data", lambda s: s.append("s", [NewEvent("t", {"k": "\udc00" * 3}, "x")], ANY)),
    ("events[0].data.o", lambda s: s.append("s", [NewEvent("t", {"o": object()}, "x")], ANY)),
    ("events[0].metadata.m", lambda s: s.append("s", [NewEvent("t", {}, "x", 1, {"m": {1}})], ANY)),
    ("expected_version", lambda s: s.append("s", [ev("x")], -1)),
    ("expected_version", lambda s: s.append("s", [ev("x")], True)),
    ("expected_version", lambda s: s.append("s", [ev("x")], "1")),  # type: ignore[arg-type]  # bad on purpose
    ("with_steps[0]", lambda s: s.append("s", [ev("x")], ANY, with_steps=["DELETE FROM events"])),  # type: ignore[list-item]  # bad on purpose
    ("from_version", lambda s: s.read_stream("s", from_version=-1)),
    ("after", lambda s: s.read_all(after=-5)),
    ("limit", lambda s: s.read_all(limit=0)),
    ("types", lambda s: s.read_all(types="thing.happened")),
    ("types", lambda s: s.read_all(types=[f"type-{i}" for i in range(501)])),
    ("types", lambda s: s.read_all(types=["ok", ""])),
    ("version", lambda s: s.save_snapshot("s", 0, 1, {})),
    ("state.x", lambda s: s.save_snapshot("s", 1, 1, {"x": float("inf")})),
    ("stream_id", lambda s: s.delete_stream("")),
]


async def test_bad_input_is_refused_before_any_sql_with_a_short_message(
    migrated_any_db: Database,
) -> None:
    await EventStore(migrated_any_db).append("s", [ev("first")], NO_STREAM)
    recording = RecordingDatabase(migrated_any_db)
    store = EventStore(recording)
    for argument, call in BAD_CALLS:
        with pytest.raises(InvalidEventError) as raised:
            await call(store)
        assert raised.value.argument == argument, (argument, str(raised.value))
        assert len(str(raised.value)) < 200
        assert not recording.touched, argument
    assert [e.event_id for e in await everything(store)] == ["first"]


# --- races between connections -------------------------------------------------------------------


async def test_two_connections_appending_at_the_same_version_exactly_one_wins(
    migrated_any_db: Database, backend_url: str
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [ev("base")], NO_STREAM)
    async with agentsdb.connect(backend_url) as other_db:
        other = EventStore(other_db)
        for round_ in range(5):
            version = await store.current_version("s")
            outcomes = await asyncio.gather(
                store.append("s", [ev(f"a{round_}")], version),
                other.append("s", [ev(f"b{round_}")], version),
                return_exceptions=True,
            )
            wins = [o for o in outcomes if isinstance(o, AppendResult)]
            losses = [o for o in outcomes if isinstance(o, BaseException)]
            assert len(wins) == 1, outcomes
            assert len(losses) == 1, losses
            (loss,) = losses
            assert isinstance(loss, ConcurrencyError), loss
            assert (loss.expected, loss.actual) == (version, version + 1)
    assert [e.version for e in await store.read_stream("s")] == list(range(1, 7))


async def test_appends_with_any_from_several_connections_all_land_without_gaps(
    migrated_any_db: Database, backend_url: str
) -> None:
    async with (
        agentsdb.connect(backend_url) as second,
        agentsdb.connect(backend_url) as third,
    ):
        stores = [EventStore(db) for db in (migrated_any_db, second, third)]

        async def writer(index: int, store: EventStore) -> None:
            for i in range(6):
                await store.append("s", [ev(f"w{index}-{i}")], ANY)

        await asyncio.gather(*(writer(i, s) for i, s in enumerate(stores)))
    events = await EventStore(migrated_any_db).read_stream("s")
    assert [e.version for e in events] == list(range(1, 19))
    assert len({e.event_id for e in events}) == 18


class LosingEveryRace:
    """A real database whose append units always lose the race for their version: each one
    fails as the version guard does when another writer took the version in between."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.appends = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def run(self, program: Any) -> Any:
        program.close()
        self.appends += 1
        raise IntegrityError("lost the race", constraint="events_stream_version")


async def test_an_append_with_any_that_keeps_losing_races_says_so_after_its_retries(
    migrated_any_db: Database,
) -> None:
    store = EventStore(migrated_any_db)
    await store.append("s", [ev("first")], NO_STREAM)
    losing = LosingEveryRace(migrated_any_db)

    with pytest.raises(ConcurrencyError) as refused:
        await EventStore(cast(Database, losing)).append("s", [ev("second")], ANY)

    assert losing.appends == 5
    assert (refused.value.expected, refused.value.actual) == (ANY, 1)
    assert "lost the race for the next version 5 times in a row" in str(refused.value)
    unpickled = pickle.loads(pickle.dumps(refused.value))
    assert (unpickled.reason, str(unpickled)) == (refused.value.reason, str(refused.value))
    assert [e.event_id for e in await store.read_stream("s")] == ["first"]


def test_every_refusal_is_an_agentsdb_error() -> None:
    for error_class in (ConcurrencyError, EventIdConflictError, InvalidEventError):
        assert issubclass(error_class, AgentsDBError)
