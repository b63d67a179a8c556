"""SQLite's durability (``PRAGMA synchronous``) as a connection option and a URL parameter."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import agentsdb
from agentsdb import ConfigurationError, Database
from agentsdb.db.url import parse_url


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# PRAGMA synchronous reports a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
LEVELS = {"off": 0, "normal": 1, "full": 2, "extra": 3}


async def synchronous_of(db: Database) -> int:
    row = await db.fetch_one("PRAGMA synchronous")
    assert row is not None
    return int(next(iter(row.values())))


def loop_reader_synchronous(db: Database) -> int:
    # The second, read-only connection the SQLite backend opens for reads on the loop's thread
    # has no public handle; this reads its setting directly.
    reader = db._reader  # type: ignore[attr-defined]  # SQLiteDatabase's private read connection
    conn: sqlite3.Connection = reader._conn
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


async def test_default_is_normal_on_every_connection(tmp_path: Path) -> None:
    async with agentsdb.connect(str(tmp_path / "a.db")) as db:
        assert await synchronous_of(db) == LEVELS["normal"]
        assert loop_reader_synchronous(db) == LEVELS["normal"]


@pytest.mark.parametrize("level", ["off", "normal", "full", "extra", "FULL"])
async def test_option_sets_the_level_on_every_connection(tmp_path: Path, level: str) -> None:
    async with agentsdb.connect(str(tmp_path / "a.db"), synchronous=level) as db:
        assert await synchronous_of(db) == LEVELS[level.lower()]
        assert loop_reader_synchronous(db) == LEVELS[level.lower()]
        await db.execute("CREATE TABLE t (x INTEGER)")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
        assert await synchronous_of(db) == LEVELS[level.lower()]


async def test_sqlite_url_parameter_sets_the_level_and_names_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with agentsdb.connect("sqlite:///a.db?synchronous=full") as db:
        assert await synchronous_of(db) == LEVELS["full"]
        assert loop_reader_synchronous(db) == LEVELS["full"]
        await db.execute("CREATE TABLE t (x INTEGER)")
    assert [name for name in files_in(tmp_path) if name.endswith(".db")] == ["a.db"]


async def test_file_uri_parameter_sets_the_level_and_keeps_sqlites_own(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    async with agentsdb.connect(str(path)) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
    async with agentsdb.connect(f"file:{path}?mode=ro&synchronous=off") as db:
        assert await synchronous_of(db) == LEVELS["off"]
        with pytest.raises(agentsdb.AgentsDBError, match="readonly"):
            await db.execute("INSERT INTO t VALUES (1)")
    assert parse_url(f"file:{path}?mode=ro&synchronous=off").database == f"file:{path}?mode=ro"


async def test_memory_database_takes_the_option(tmp_path: Path) -> None:
    async with agentsdb.connect("sqlite://?synchronous=off") as db:
        assert await synchronous_of(db) == LEVELS["off"]
    async with agentsdb.connect(":memory:", synchronous="full") as db:
        assert await synchronous_of(db) == LEVELS["full"]


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("a.db", {"synchronous": "fast"}, "synchronous must be one of off, normal, full, extra"),
        ("a.db", {"synchronous": 1}, "got int"),
        ("sqlite:///a.db?synchronous=safe", {}, "synchronous parameter must be one of"),
        ("sqlite:///a.db?synchronous=", {}, "got ''"),
        ("sqlite:///a.db?synchronus=full", {}, r"unknown parameter.*synchronus"),
        ("sqlite:///a.db?synchronous=full&synchronous=off", {}, "more than once"),
        ("sqlite:///a.db?synchronous=full", {"synchronous": "off"}, "given twice"),
        ("file:a.db?synchronous=sometimes", {}, "synchronous parameter must be one of"),
    ],
)
async def test_bad_level_is_refused_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    options: dict[str, Any],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message):
        await agentsdb.connect(url, **options)
    assert files_in(tmp_path) == []


async def test_same_level_in_url_and_option_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with agentsdb.connect("sqlite:///a.db?synchronous=FULL", synchronous="full") as db:
        assert await synchronous_of(db) == LEVELS["full"]


async def test_option_is_refused_on_server_backends() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown option.*synchronous"):
        await agentsdb.connect("postgresql://127.0.0.1:1/none", synchronous="full")
