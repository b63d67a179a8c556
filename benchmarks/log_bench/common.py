"""What the cases of ``bench_session_logs.py`` share: the Agents SDK's session at a chosen
durability, the payloads, temp files, migrated databases, raw sqlite3 connections and timers."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import durability

import agentsdb
from agentsdb.db.base import Database
from agentsdb.models import Agent, Session, SessionLog, format_ts, now
from agentsdb.repositories import AgentRepository, SessionRepository

try:
    from agents.memory import SQLiteSession
except ImportError:  # the bench extra is not installed
    SQLiteSession = None


def sdk_session(session_id: str, path: Path, level: str) -> Any:
    """A SQLiteSession whose connections run at ``level``: as shipped at FULL (its default),
    else with each connection switched to ``level`` where the SDK configures it."""
    if level == "FULL":
        return SQLiteSession(session_id, path)

    class Matched(SQLiteSession):
        @staticmethod
        def _configure_connection(conn: sqlite3.Connection) -> None:
            SQLiteSession._configure_connection(conn)
            durability.set_level(conn, level)

    return Matched(session_id, path)


async def sdk_level(sdk: Any) -> str:
    """The level SQLiteSession's connections really run at (read on one of its threads)."""

    def read() -> str:
        return durability.level_of(sdk._get_connection())

    return await asyncio.to_thread(read)


CONTENT = {"text": "The user asked for the weather in Lisbon; calling the forecast tool."}
METADATA = {"tokens": 17}


# --- set-up --------------------------------------------------------------------------------------


class Workdir:
    """Fresh database files in one temp folder, removed at the end."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="agentsdb-bench-"))
        self._count = 0

    def path(self, name: str) -> Path:
        self._count += 1
        return self.root / f"{self._count:02d}-{name}.db"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


async def open_migrated(path: Path, level: str = "NORMAL") -> Database:
    db = await agentsdb.connect(str(path), synchronous=level)
    try:
        await agentsdb.Migrator(db).migrate()
    except BaseException:
        await db.close()  # an open connection's worker thread would keep the process alive
        raise
    return db


async def new_sessions(db: Database, count: int) -> list[str]:
    agent = await AgentRepository(db).create(Agent(name="bench", model="m"))
    sessions = SessionRepository(db)
    return [(await sessions.create(Session(main_agent_id=agent.id))).id for _ in range(count)]


async def prepared(path: Path, sessions: int) -> list[str]:
    """Migrate a new file and create sessions in it for a raw sqlite3 run; their ids."""
    db = await open_migrated(path)
    try:
        return await new_sessions(db, sessions)
    finally:
        await db.close()


def raw_connect(path: Path, level: str = "NORMAL") -> sqlite3.Connection:
    """A plain sqlite3 connection with the settings agentsdb uses, at ``level``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    durability.set_level(conn, level)
    return conn


async def agentsdb_level(db: Database) -> str:
    row = await db.fetch_one("PRAGMA synchronous")
    assert row is not None
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[int(row["synchronous"])]


def check_levels(level: str, **seen: str) -> None:
    """Stop when a side does not run at ``level``: its figure would compare unlike things."""
    wrong = {side: found for side, found in seen.items() if found != level}
    assert not wrong, f"expected synchronous={level} on every side, found {wrong}"


def models_for(session_id: str, count: int) -> list[SessionLog]:
    return [
        SessionLog(session_id=session_id, role="agent", type="action", content=CONTENT)
        for _ in range(count)
    ]


def raw_params(session_id: str) -> dict[str, Any]:
    """What raw sqlite3 binds for one row: the same JSON and timestamps agentsdb stores."""
    stamp = format_ts(now())
    return {
        "session_id": session_id,
        "parent_id": None,
        "role": "agent",
        "type": "action",
        "content": json.dumps(CONTENT),
        "metadata": "{}",
        "created_at": stamp,
        "updated_at": stamp,
    }


def sdk_item() -> dict[str, Any]:
    return {"role": "assistant", "content": CONTENT["text"]}


async def best_of(repeat: int, run: Callable[[], Awaitable[float]]) -> float:
    """The best (highest) rate of ``repeat`` runs."""
    return max([await run() for _ in range(repeat)])


async def best_in_turns(
    repeat: int, runs: dict[str, Callable[[], Awaitable[float]]]
) -> dict[str, float]:
    """The best rate of each side over ``repeat`` rounds, the sides taking turns in each round,
    so that the machine's slow and fast moments fall on every side alike."""
    seen: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            seen[name].append(await run())
    return {name: max(rates) for name, rates in seen.items()}


def row(label: str, rate: float, unit: str = "rows/s", note: str = "") -> None:
    print(f"  {label:<52} {rate:>12,.0f} {unit}{'  ' + note if note else ''}")
