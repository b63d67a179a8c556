"""SQLite: fresh temp files at one ``synchronous`` level, and raw sqlite3 doing each case."""

from __future__ import annotations

import sqlite3
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import durability

import agentsdb
from agentsdb import Migration
from agentsdb.db.url import parse_url
from agentsdb.migrator.tracking import head_sql
from agentsdb.models import format_ts, now
from agentsdb.queries import SessionLogQueries
from backend_bench.common import (
    LOG_COLUMNS,
    TRACKING_DDL,
    TRACKING_TABLE,
    Backend,
    best_rate,
    raw_log_row,
)


class SQLiteBackend(Backend):
    def __init__(self, folder: Path, level: str) -> None:
        self.folder = folder
        self.level = level
        self.name = f"sqlite {level.lower()}"

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        path = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        yield f"sqlite:///{path}?synchronous={self.level.lower()}"

    def connect(self, url: str) -> sqlite3.Connection:
        """A plain sqlite3 connection with the settings agentsdb uses, at the same level."""
        conn = sqlite3.connect(parse_url(url).database, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        durability.set_level(conn, self.level)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def settings(self, url: str) -> str:
        async with agentsdb.connect(url) as db:
            row = await db.fetch_one("PRAGMA synchronous")
        assert row is not None
        ours = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[int(row["synchronous"])]
        conn = self.connect(url)
        raw = durability.level_of(conn)
        conn.close()
        assert ours == raw == self.level, (ours, raw, self.level)
        return f"WAL, {durability.on_every_side(self.level)}"

    async def raw_fresh_apply(self, url: str, migrations: list[Migration]) -> float:
        conn = self.connect(url)
        try:
            conn.execute(TRACKING_DDL)
            started = time.perf_counter()
            for migration in migrations:
                conn.execute("BEGIN IMMEDIATE")
                for statement in migration.up_statements("sqlite"):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO tracking VALUES (?, ?, ?, ?)",
                    (migration.id, migration.description, "x", format_ts(now())),
                )
                conn.execute("COMMIT")
            return len(migrations) / (time.perf_counter() - started)
        finally:
            conn.close()

    async def raw_noop(self, url: str, repeat: int) -> float:
        conn = self.connect(url)
        head = head_sql(TRACKING_TABLE)
        try:
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                conn.execute(head).fetchall()
                samples.append(time.perf_counter() - started)
            return 1 / statistics.median(samples)
        finally:
            conn.close()

    async def raw_append(self, url: str, session_id: str, n: int, repeat: int) -> dict[str, float]:
        conn = self.connect(url)
        sql = SessionLogQueries.insert_many.replace("\n", " ")
        for column in LOG_COLUMNS:
            sql = sql.replace(f":{column}", "?", 1)

        async def once() -> float:
            started = time.perf_counter()
            rows = [raw_log_row(session_id) for _ in range(n)]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows)
            conn.execute("SELECT MAX(id) FROM session_logs").fetchone()
            conn.execute("COMMIT")
            return n / (time.perf_counter() - started)

        try:
            return {"sqlite3": await best_rate(repeat, once)}
        finally:
            conn.close()

    @asynccontextmanager
    async def raw_reads(
        self, url: str, ids: list[int]
    ) -> AsyncIterator[Callable[[], Awaitable[float]]]:
        conn = self.connect(url)
        conn.row_factory = sqlite3.Row

        async def once() -> float:
            started = time.perf_counter()
            for log_id in ids:
                row = conn.execute(SessionLogQueries.get_by_id, {"id": log_id}).fetchone()
                assert dict(row)
            return len(ids) / (time.perf_counter() - started)

        try:
            yield once
        finally:
            conn.close()
