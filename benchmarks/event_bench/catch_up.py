"""Case 4: a catch-up reader paging through 100,000 events by position, every event and then
with a filter on 11 types (as a projection reads), the filtered read also beside the index on
``(type, position)`` that migration 011 made and 015 dropped."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import agentsdb
from agentsdb.events import EventStore, NewEvent
from event_bench.common import RAW_READ_ALL, Workdir, open_migrated, raw_connect
from event_bench.peer import PeerAgent, peer_app

#: The events' 11 types, taken in turn, and the filter of the filtered catch-up: all of them, as
#: a projection of every type of an aggregate reads.
FILTER_TYPES = tuple(f"bench.happened{index}.v1" for index in range(11))
RAW_READ_ALL_OF_TYPES = f"""SELECT position, stream_id, version, event_id, type, schema_version,
    data, metadata, recorded_at FROM events
    WHERE position > ? AND type IN ({", ".join("?" * len(FILTER_TYPES))})
    ORDER BY position LIMIT ?"""


async def fill_events(path: Path, count: int) -> None:
    db = await open_migrated(path)
    try:
        events = EventStore(db)
        batch = 1000
        for start in range(0, count, batch):
            await events.append(
                f"stream-{start // batch}",
                [
                    NewEvent(
                        type=FILTER_TYPES[n % len(FILTER_TYPES)],
                        data={"n": n, "text": "x" * 40},
                    )
                    for n in range(start, min(start + batch, count))
                ],
                expected_version=0,
            )
    finally:
        await db.close()


async def agentsdb_catch_up(
    path: Path, page: int, types: tuple[str, ...] | None = None
) -> tuple[int, float]:
    db = await agentsdb.connect(str(path))
    try:
        events = EventStore(db)
        seen = 0
        started = time.perf_counter()
        after = 0
        while True:
            batch = await events.read_all(after=after, limit=page, types=types)
            if not batch:
                break
            seen += len(batch)
            after = batch[-1].position
        return seen, time.perf_counter() - started
    finally:
        await db.close()


def raw_catch_up(path: Path, page: int, *, filtered: bool = False) -> tuple[int, float]:
    connection = raw_connect(path)
    try:
        seen = 0
        started = time.perf_counter()
        after = 0
        while True:
            if filtered:
                params = (after, *FILTER_TYPES, page)
                rows = connection.execute(RAW_READ_ALL_OF_TYPES, params).fetchall()
            else:
                rows = connection.execute(RAW_READ_ALL, (after, page)).fetchall()
            if not rows:
                break
            for row in rows:
                json.loads(row[6])
                json.loads(row[7])
            seen += len(rows)
            after = rows[-1][0]
        return seen, time.perf_counter() - started
    finally:
        connection.close()


def with_type_index(path: Path, copy: Path) -> Path:
    """A copy of the events at ``path`` with migration 011's index on (type, position) back."""
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("CREATE INDEX events_type_position ON events (type, position)")
        target.commit()
    finally:
        source.close()
        target.close()
    return copy


def peer_catch_up(path: Path, count: int, page: int) -> tuple[int, float]:
    app = peer_app(path)
    try:
        batch = 1000
        for start in range(0, count, batch):
            agent = PeerAgent("user", "tutor", "tutor")
            for n in range(start, min(start + batch, count) - 1):
                agent.update_preferences({"n": n, "text": "x" * 40})
            app.save(agent)
        seen = 0
        started = time.perf_counter()
        after = 1
        while True:
            notifications = app.recorder.select_notifications(start=after, limit=page)
            if not notifications:
                break
            for notification in notifications:
                app.mapper.to_domain_event(notification)
            seen += len(notifications)
            after = notifications[-1].id + 1
        return seen, time.perf_counter() - started
    finally:
        app.close()


def report_catch_up(work: Workdir, catch_up: int, repeat: int) -> None:
    print(f"\n4. catch-up: {catch_up:,} events in pages of 1,000")
    path = work.path("catch-up")
    asyncio.run(fill_events(path, catch_up))
    ours = min(
        (asyncio.run(agentsdb_catch_up(path, 1000)) for _ in range(repeat)), key=lambda r: r[1]
    )
    raw_run = min((raw_catch_up(path, 1000) for _ in range(repeat)), key=lambda r: r[1])
    peer_run = peer_catch_up(work.path("peer-catch-up"), catch_up, 1000)
    assert ours[0] == raw_run[0] == catch_up, (ours, raw_run)
    ours_rate, raw_rate, peer_rate = (
        ours[0] / ours[1],
        raw_run[0] / raw_run[1],
        peer_run[0] / peer_run[1],
    )
    print(
        f"   EventStore.read_all   {ours_rate:10,.0f} events/s  "
        f"{ours_rate / raw_rate:.0%} of raw (target ≥ 50%)"
    )
    print(f"   raw sqlite3 paging    {raw_rate:10,.0f} events/s")
    print(f"   eventsourcing         {peer_rate:10,.0f} events/s")
    report_filtered(work, path, catch_up, repeat)


def report_filtered(work: Workdir, path: Path, catch_up: int, repeat: int) -> None:
    """The same catch-up keeping the 11 types, as a projection reads (every event has one)."""
    indexed = with_type_index(path, work.path("catch-up-type-index"))
    ours = min(
        (asyncio.run(agentsdb_catch_up(path, 1000, FILTER_TYPES)) for _ in range(repeat)),
        key=lambda r: r[1],
    )
    raw_run = min(
        (raw_catch_up(path, 1000, filtered=True) for _ in range(repeat)), key=lambda r: r[1]
    )
    # One run: with the index it takes seconds, and grows with the square of the log.
    old_run = raw_catch_up(indexed, 1000, filtered=True)
    assert ours[0] == raw_run[0] == old_run[0] == catch_up, (ours, raw_run, old_run)
    ours_rate, raw_rate, old_rate = (run[0] / run[1] for run in (ours, raw_run, old_run))
    print(f"   keeping {len(FILTER_TYPES)} types (a projection's filter):")
    print(
        f"   EventStore.read_all   {ours_rate:10,.0f} events/s  "
        f"{ours_rate / raw_rate:.0%} of raw with the same filter"
    )
    print(f"   raw sqlite3 paging    {raw_rate:10,.0f} events/s")
    print(
        f"   raw, with 011's index {old_rate:10,.0f} events/s  the index on (type, position) "
        f"that 015 dropped: the raw read without it runs {raw_rate / old_rate:.1f}x as fast"
    )
