"""Cases 2 and 3: loading one agent with a long stream, without and with a snapshot."""

from __future__ import annotations

import asyncio
import json
import statistics
from pathlib import Path

from agentsdb.aggregate import AgentStore
from agentsdb.events import EventStore
from event_bench.common import (
    RAW_READ_STREAM,
    Workdir,
    agent_with_events,
    best,
    open_migrated,
    ratio,
    raw_connect,
    timed,
    timed_sync,
)
from event_bench.peer import PeerAgent, peer_app, peer_session


async def agentsdb_loads(path: Path, count: int, repeat: int) -> dict[str, float]:
    """agentsdb's load times and raw sqlite3's, each the best of ``repeat``; the raw load runs
    right after each agentsdb read or load, so each ratio is also taken per pair (the median)."""
    db = await open_migrated(path)
    connection = raw_connect(path)
    try:
        plain = await agent_with_events(db, count, snapshot=False)
        snapped = await agent_with_events(db, count, snapshot=True)
        store = AgentStore(db)
        events = EventStore(db)
        stream = (await store.load(plain)).stream_id
        loaded = await store.load(plain)
        assert loaded.version >= count, loaded.version

        def raw() -> None:
            rows = connection.execute(RAW_READ_STREAM, (stream,)).fetchall()
            for row in rows:
                json.loads(row[6])
                json.loads(row[7])

        figures: dict[str, list[float]] = {"read_stream": [], "load": [], "raw": []}
        pairs: dict[str, list[float]] = {"read_stream": [], "load": []}
        for _ in range(repeat):
            for name, work in (
                ("read_stream", lambda: events.read_stream(stream)),
                ("load", lambda: store.load(plain)),
            ):
                ours = await timed(1, work)
                raw_time = timed_sync(1, raw)
                figures[name].append(ours)
                figures["raw"].append(raw_time)
                pairs[name].append(ours / raw_time)
        return {
            "events": loaded.version,
            **{name: best(times) for name, times in figures.items()},
            **{f"{name}_paired": statistics.median(ratios) for name, ratios in pairs.items()},
            "load_snapshot": await timed(repeat * 4, lambda: store.load(snapped)),
        }
    finally:
        connection.close()
        await db.close()


def peer_loads(path: Path, count: int, repeat: int) -> dict[str, float]:
    app = peer_app(path)
    try:
        agent = PeerAgent("user-1", "tutor", "tutor")
        cycle = 0
        while len(agent.pending_events) + 0 < count:
            peer_session(agent, cycle)
            cycle += 1
        app.save(agent)
        agent_id = agent.id
        no_snapshot = timed_sync(repeat, lambda: app.repository.get(agent_id))
        app.take_snapshot(agent_id)
        with_snapshot = timed_sync(repeat * 4, lambda: app.repository.get(agent_id))
        return {"load": no_snapshot, "load_snapshot": with_snapshot}
    finally:
        app.close()


def report_loads(work: Workdir, stream_size: int, repeat: int) -> None:
    print(f"\n2-3. loading one agent with {stream_size:,} events")
    path = work.path("load")
    loads = asyncio.run(agentsdb_loads(path, stream_size, repeat))
    raw_ms = loads["raw"] * 1000
    peer = peer_loads(work.path("peer-load"), int(loads["events"]), repeat)
    print(f"   events in the stream: {int(loads['events']):,}")
    print(f"   raw SELECT + json.loads             {raw_ms:8.2f} ms")
    print(
        f"   EventStore.read_stream              {loads['read_stream'] * 1000:8.2f} ms  "
        f"{loads['read_stream_paired']:.2f}x raw"
    )
    verdict = "met" if loads["load_paired"] <= 3 else "missed"
    print(
        f"   AgentStore.load, no snapshot        {loads['load'] * 1000:8.2f} ms  "
        f"{loads['load_paired']:.2f}x raw (target ≤ 3x: {verdict}; each ratio is the median of "
        f"{repeat} loads each timed beside a raw load; best against best "
        f"{ratio(loads['load'] * 1000, raw_ms)})"
    )
    print(f"   eventsourcing, no snapshot          {peer['load'] * 1000:8.2f} ms")
    print(
        f"   AgentStore.load, from a snapshot    {loads['load_snapshot'] * 1000:8.2f} ms"
        "  (target ≤ 2 ms)"
    )
    print(f"   eventsourcing, from a snapshot      {peer['load_snapshot'] * 1000:8.2f} ms")
