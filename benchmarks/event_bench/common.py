"""What every case of ``bench_events.py`` shares: temp files, migrated databases, raw sqlite3
connections with agentsdb's settings, the agents' sessions, and the timers."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import agentsdb
from agentsdb.aggregate import (
    AgentAggregate,
    AgentStore,
    AgentType,
    ClientAction,
    ClientResponse,
    ExecutionState,
    LlmMessageSnapshot,
    PendingToolCall,
)
from agentsdb.db.base import Database
from agentsdb.events import EventStore

SETTINGS = "SQLite WAL, synchronous=NORMAL on every side"


class Workdir:
    """Fresh database files in one temp folder, removed at the end."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="agentsdb-bench-events-"))
        self._count = 0

    def path(self, name: str) -> Path:
        self._count += 1
        return self.root / f"{self._count:02d}-{name}.db"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


async def open_migrated(path: Path) -> Database:
    db = await agentsdb.connect(str(path))
    try:
        await agentsdb.Migrator(db).migrate()
    except BaseException:
        await db.close()
        raise
    return db


def raw_connect(path: Path) -> sqlite3.Connection:
    """A sqlite3 connection with agentsdb's settings."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


BASE_TIME = datetime(2026, 12, 1, tzinfo=UTC)


def moments() -> Callable[[], datetime]:
    """A clock that moves a millisecond per call, so replays see increasing times."""
    state = {"now": BASE_TIME}

    def tick() -> datetime:
        state["now"] += timedelta(milliseconds=1)
        return state["now"]

    return tick


def run_session(agent: AgentAggregate, cycle: int, now: Callable[[], datetime]) -> None:
    """One session: start, suspend on a tool call, receive the response, resume, complete."""
    call_id = f"call-{cycle}"
    agent.start_session(f"conversation-{cycle}", now=now())
    execution = ExecutionState(
        messages=(
            LlmMessageSnapshot(role="user", content="What is the weather in Lisbon?"),
            LlmMessageSnapshot(
                role="assistant",
                tool_calls=({"id": call_id, "name": "ask_location"},),
            ),
        ),
        iteration=1,
        tool_calls_made=1,
        pending_tool_call=PendingToolCall(
            call_id=call_id, tool_name="ask_location", arguments={"precise": True}
        ),
        started_at_ms=1_700_000_000_000 + cycle,
        suspended_at_ms=1_700_000_000_001 + cycle,
    )
    agent.suspend_execution(
        execution, ClientAction(call_id=call_id, kind="widget", payload={"w": "map"}), now=now()
    )
    agent.resume_execution(ClientResponse(call_id=call_id, payload={"city": "Lisbon"}), now=now())
    agent.complete_session(f"answered {cycle}", now=now())


async def agent_with_events(db: Database, count: int, *, snapshot: bool) -> str:
    """An agent whose stream holds at least ``count`` events; returns its id."""
    now = moments()
    store = AgentStore(db, snapshot_every=10**9)
    agent = AgentAggregate.create(
        owner_user_id="user-1", agent_type=AgentType.TUTOR, name="tutor", now=now()
    )
    cycle = 0
    while agent.version + len(agent.pending_events) < count:
        run_session(agent, cycle, now)
        cycle += 1
        if len(agent.pending_events) >= 500:
            await store.save(agent)
    await store.save(agent)
    events = EventStore(db)
    if snapshot:
        await events.save_snapshot(
            agent.stream_id, agent.version, AgentAggregate.STATE_SCHEMA_VERSION, agent.to_snapshot()
        )
    else:
        # save() snapshots when a session ends; this case loads without one.
        await db.execute("DELETE FROM snapshots WHERE stream_id = :s", {"s": agent.stream_id})
    return agent.id


class Rate:
    """Commands per second over a timed loop, and the process's CPU time per command (every
    thread's: a figure the machine's other load moves far less than the wall clock)."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        return self._count / wall, cpu / self._count * 1e6


def best(times: list[float]) -> float:
    return min(times)


async def timed(repeat: int, work: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return best(times)


def timed_sync(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return best(times)


async def migrate_only(path: Path) -> None:
    db = await open_migrated(path)
    await db.close()


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x"


RAW_APPEND = """INSERT INTO events
    (stream_id, version, event_id, type, schema_version, data, metadata, recorded_at)
VALUES (?, (SELECT CASE WHEN COALESCE(MAX(version), 0) = ? THEN ? END FROM events
            WHERE stream_id = ?), ?, ?, 1, ?, '{}', ?)"""
RAW_READ_STREAM = """SELECT position, stream_id, version, event_id, type, schema_version, data,
    metadata, recorded_at FROM events WHERE stream_id = ? ORDER BY version"""
RAW_READ_ALL = """SELECT position, stream_id, version, event_id, type, schema_version, data,
    metadata, recorded_at FROM events WHERE position > ? ORDER BY position LIMIT ?"""
