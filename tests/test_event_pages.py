"""``EventStore.read_page``: the events ``read_all`` gives and how far the read went, so a reader
of rare types moves past the other events once; and a projector of rare types that does so.
Every test runs on each backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from agentsdb.db.base import Database, Execute, Step
from agentsdb.errors import InvalidEventError
from agentsdb.events import ANY, EventPage, EventStore, NewEvent, Projector, RecordedEvent


async def append_mixed(store: EventStore, count: int, rare_every: int) -> list[int]:
    """``count`` events, every ``rare_every``-th one of type ``rare``; their positions."""
    positions = []
    for index in range(count):
        kind = "rare" if index % rare_every == rare_every - 1 else "common"
        written = await store.append(f"s{index % 3}", [NewEvent(kind, {"n": index})], ANY)
        positions.extend(written.positions)
    return positions


async def test_a_full_page_ends_at_its_last_event_and_a_short_one_at_the_newest_position(
    store: EventStore,
) -> None:
    positions = await append_mixed(store, 7, rare_every=100)

    full = await store.read_page(limit=3)
    assert [e.position for e in full.events] == positions[:3]
    assert full.scanned_to == positions[2]

    rest = await store.read_page(after=full.scanned_to, limit=10)
    assert [e.position for e in rest.events] == positions[3:]
    assert rest.scanned_to == positions[-1]
    assert rest.events == await store.read_all(after=full.scanned_to, limit=10)


async def test_paging_by_scanned_to_keeps_every_event_of_a_rare_type_once(
    store: EventStore,
) -> None:
    positions = await append_mixed(store, 40, rare_every=9)
    rare = await store.read_all(types=["rare"], limit=100)
    assert [e.data["n"] for e in rare] == [8, 17, 26, 35]

    seen: list[RecordedEvent] = []
    reads = []
    after = 0
    while True:
        page = await store.read_page(after=after, limit=2, types=["rare"])
        reads.append((after, page.scanned_to))
        if page.scanned_to == after:
            break
        seen.extend(page.events)
        after = page.scanned_to
    assert seen == rare
    # Two full pages end at their last event; the third, short, ends at the newest position.
    # A read from there finds nothing more.
    ends = [rare[1].position, rare[3].position, positions[-1], positions[-1]]
    assert [to for _, to in reads] == ends

    # A later read starts where the scan ended, past the common events after the last rare one.
    more = await append_mixed(store, 9, rare_every=9)
    page = await store.read_page(after=after, types=["rare"])
    assert [e.position for e in page.events] == [more[-1]]
    assert page.scanned_to == more[-1]


async def test_a_page_with_nothing_to_keep_says_how_far_it_read(store: EventStore) -> None:
    assert await store.read_page() == EventPage([], 0)
    positions = await append_mixed(store, 5, rare_every=100)

    assert await store.read_page(types=["rare"]) == EventPage([], positions[-1])
    assert await store.read_page(after=positions[-1]) == EventPage([], positions[-1])
    # Never below where it started, nor when nothing could be kept.
    assert await store.read_page(after=positions[-1] + 50) == EventPage([], positions[-1] + 50)
    assert await store.read_page(after=2, types=[]) == EventPage([], 2)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"after": -1}, "after"),
        ({"limit": 0}, "limit"),
        ({"types": "rare"}, "types"),
        ({"types": [""]}, "types"),
        ({"decode": "yes"}, "decode"),
    ],
)
async def test_read_page_refuses_what_read_all_refuses(
    store: EventStore, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEventError, match=field):
        await store.read_page(**arguments)
    with pytest.raises(InvalidEventError, match=field):
        await store.read_all(**arguments)


# --- a projector of a rare type -----------------------------------------------------------------


class RareSeen:
    """Keeps the ids of the ``rare`` events in a table of their own."""

    name = "rare-seen"
    types = ("rare",)

    async def steps_for(self, events: Sequence[RecordedEvent]) -> Sequence[Step]:
        return [
            Execute(
                "INSERT INTO rare_seen (event_id) VALUES (:id) ON CONFLICT (event_id) DO NOTHING",
                {"id": event.event_id},
            )
            for event in events
        ]

    def reset_steps(self) -> Sequence[Step]:
        return [Execute("DELETE FROM rare_seen")]


class CountingReader:
    """The store, counting the events each page the projector reads holds."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.reads: list[tuple[int, int]] = []

    async def read_page(
        self, *, after: int = 0, limit: int = 1000, types: Iterable[str] | None = None
    ) -> EventPage:
        page = await self.store.read_page(after=after, limit=limit, types=types)
        self.reads.append((after, page.scanned_to))
        return page


async def test_a_projector_of_a_rare_type_moves_past_the_other_events_once(
    migrated_any_db: Database, store: EventStore
) -> None:
    await migrated_any_db.execute("CREATE TABLE rare_seen (event_id TEXT PRIMARY KEY)")
    positions = await append_mixed(store, 30, rare_every=10)
    reader = CountingReader(store)
    projector = Projector(migrated_any_db, reader, RareSeen(), page_size=2)

    assert await projector.catch_up() == 3
    assert await projector.position() == positions[-1]  # past the common events after the last

    # Nothing new: one read, from the newest position, and nothing moves.
    reader.reads.clear()
    assert await projector.catch_up() == 0
    assert reader.reads == [(positions[-1], positions[-1])]

    # Only common events since: the position moves past them, and they are not read again.
    common = await append_mixed(store, 5, rare_every=100)
    assert await projector.run_once() == 0
    assert await projector.position() == common[-1]
    reader.reads.clear()
    assert await projector.run_once() == 0
    assert reader.reads == [(common[-1], common[-1])]

    rows = await migrated_any_db.fetch_all("SELECT event_id FROM rare_seen ORDER BY event_id")
    rare = await store.read_all(types=["rare"])
    assert sorted(row["event_id"] for row in rows) == sorted(e.event_id for e in rare)
    assert await projector.rebuild() == 3
