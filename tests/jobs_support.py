"""Helpers for the backfill job tests: legacy source databases and snapshots of the target."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import agentsdb
from agentsdb.db.base import Database, Params

#: The backends a job writes to in the contract tests: every one with interactive transactions
#: (libSQL over HTTP has none, and a job refuses it: test_jobs_bluesky.py proves it).
JOB_TARGETS = pytest.mark.parametrize(
    "backend", ["sqlite", "postgresql", "libsql-ws"], indirect=True
)

BLUESKY_DDL = [
    """CREATE TABLE bluesky_profiles (handle TEXT PRIMARY KEY, did TEXT NOT NULL UNIQUE,
        display_name TEXT, bio TEXT, followers_count INTEGER, follows_count INTEGER,
        posts_count INTEGER, created_at TEXT)""",
    """CREATE TABLE agent_bios (id INTEGER PRIMARY KEY, handle TEXT NOT NULL,
        generated_bio TEXT NOT NULL, created_at TEXT)""",
    "CREATE INDEX agent_bios_handle ON agent_bios (handle)",
]

LEGACY_DDL = [
    "CREATE TABLE personas (id TEXT PRIMARY KEY, name TEXT, is_active INTEGER)",
    """CREATE TABLE conversations (id TEXT PRIMARY KEY, persona_id TEXT, title TEXT,
        created_at TEXT)""",
    """CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, persona_id TEXT,
        role TEXT, content TEXT, created_at TEXT)""",
    """CREATE TABLE memory_vectors (id TEXT PRIMARY KEY, persona_id TEXT, conversation_id TEXT,
        content TEXT, embedding BLOB)""",
]

Profile = tuple[Any, ...]


def profile(
    handle: str,
    *,
    bio: str | None = None,
    counts: tuple[int | None, int | None, int | None] = (1, 2, 3),
    display_name: str | None = None,
) -> Profile:
    """A ``bluesky_profiles`` row; the did is derived from the handle."""
    return (
        handle,
        f"did:plc:{handle}",
        display_name,
        bio,
        *counts,
        "2024-05-01T10:00:00",
    )


def make_bluesky_source(
    path: Path,
    profiles: Iterable[Profile],
    bios: Sequence[tuple[int, str, str, str | None]] = (),
) -> None:
    """Create the two legacy tables in ``path`` and fill them."""
    with closing(sqlite3.connect(path)) as conn:
        for ddl in BLUESKY_DDL:
            conn.execute(ddl)
        conn.executemany("INSERT INTO bluesky_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", profiles)
        conn.executemany("INSERT INTO agent_bios VALUES (?, ?, ?, ?)", bios)
        conn.commit()


def make_legacy_source(
    path: Path,
    personas: Iterable[tuple[Any, ...]],
    conversations: Iterable[tuple[Any, ...]],
    messages: Iterable[tuple[Any, ...]],
    vectors: Iterable[tuple[Any, ...]] = (),
    prefix: str = "",
) -> None:
    """Create the legacy persona tables in ``path`` (names prefixed) and fill them."""
    with closing(sqlite3.connect(path)) as conn:
        for ddl in LEGACY_DDL:
            conn.execute(ddl.replace("CREATE TABLE ", f"CREATE TABLE {prefix}", 1))
        conn.executemany(f"INSERT INTO {prefix}personas VALUES (?, ?, ?)", personas)
        conn.executemany(f"INSERT INTO {prefix}conversations VALUES (?, ?, ?, ?)", conversations)
        conn.executemany(f"INSERT INTO {prefix}messages VALUES (?, ?, ?, ?, ?, ?)", messages)
        conn.executemany(f"INSERT INTO {prefix}memory_vectors VALUES (?, ?, ?, ?, ?)", vectors)
        conn.commit()


async def rows(db: Database, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
    """Every row of a query, read back through the Database, as tuples."""
    return [tuple(row.values()) for row in await db.fetch_all(sql, params)]


def sqlite_file_rows(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row of a query on a SQLite file another process wrote (a command-line run, a
    killed job), read with a connection of its own."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def plant_in_sqlite_file(path: Path, sql: str) -> None:
    """Run one write on a SQLite file with foreign keys off, to plant an orphan the schema
    would refuse (for a target the command line opens by its path)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(sql)
        conn.commit()


async def bluesky_state(
    db: Database, *, with_times: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """What job 1 wrote, sorted; timestamps only when asked (they differ between runs)."""
    times = ", created_at, updated_at" if with_times else ""
    return {
        "agents": await rows(
            db,
            "SELECT id, name, model, handle, display_name, persona_source, status"
            f"{times} FROM agents ORDER BY id",
        ),
        "bios": await rows(
            db,
            "SELECT agent_id, persona_bio, persona_bio_source"
            f"{times} FROM agent_persona_bios ORDER BY agent_id, id",
        ),
        "metadata": await rows(
            db,
            "SELECT agent_id, followers_count, follows_count, posts_count"
            f"{times} FROM user_agent_profile_metadata ORDER BY agent_id",
        ),
    }


async def agent_scope_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """What job 2 wrote, with generated agent ids replaced by their persona ids (messages without
    their content hash, which covers the generated id of the sending agent)."""
    persona = "(SELECT persona_id FROM agents a WHERE a.id = {})"
    return {
        "agents": await rows(db, "SELECT persona_id, name, status FROM agents ORDER BY persona_id"),
        "conversations": await rows(
            db,
            f"SELECT id, {persona.format('c.agent_id')} AS agent, persona_id, title"
            " FROM conversations c ORDER BY id",
        ),
        "messages": await rows(
            db,
            f"SELECT conversation_id, {persona.format('m.from_agent_id')} AS sender, persona_id,"
            " role, content, client_message_id FROM messages m"
            " ORDER BY conversation_id, client_message_id",
        ),
        "embeddings": await rows(
            db,
            f"SELECT id, {persona.format('e.agent_id')} AS agent, conversation_id, content,"
            " content_hash, embedding, source FROM embeddings e ORDER BY id",
        ),
    }


async def kill_after_committed_batches(
    child: subprocess.Popen[str], target: Database, wanted: int, *, within: float = 120.0
) -> None:
    """SIGKILL the job process ``child`` once the job run it records in ``target`` (any backend,
    read through a connection of the test's own) has committed ``wanted`` batches."""
    deadline = time.monotonic() + within
    while True:
        row = await target.fetch_one("SELECT batches FROM agentsdb_job_runs")
        if row is not None and int(row["batches"]) >= wanted:
            break
        assert child.poll() is None, "the job finished before it could be killed"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def decoded_json(db: Database, value: Any) -> Any:
    """A JSON column's value as Python data, however the database returns it."""
    return value if db.json_decoded else json.loads(value)


async def migrated(path: Path) -> Path:
    """A new SQLite database at ``path`` with every built-in migration applied."""
    async with agentsdb.connect(str(path)) as db:
        await agentsdb.Migrator(db).migrate()
    return path


#: The backends a test that plants an orphan runs on: where foreign keys can be turned off
#: for one write (see the ``write_without_foreign_keys`` fixture).
ORPHAN_TARGETS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
