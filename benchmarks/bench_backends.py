"""The same work on each backend, beside the raw driver doing it by hand, in one run.

    python benchmarks/bench_backends.py [--migrations 200] [--logs 10000] [--reads 2000]
                                        [--repeat 5] [--postgres-url URL] [--no-libsql]
                                        [--no-sqlite]

Cases, on SQLite (a temp file) and PostgreSQL (a fresh database on the server at
``--postgres-url``, default ``$AGENTSDB_TEST_POSTGRES_URL`` or the local test server):

* fresh apply of N synthetic migrations; baseline: the raw driver running the same statements,
  one transaction per migration with a tracking-row insert in it;
* no-op ``migrate()`` with those N applied; baseline: the very query agentsdb's no-op runs (the
  newest tracking row, the row count, whether any row is dirty) through the raw driver on an
  open connection, on the same database;
* ``SessionLogRepository.append_many`` of 10,000 logs; baseline: raw sqlite3 ``executemany`` in
  one transaction, raw asyncpg ``executemany`` and COPY (``copy_records_to_table``), each
  encoding the JSON and timestamps as agentsdb stores them;
* point reads by primary key through ``SessionLogRepository.get``; baseline: the raw driver's
  ``fetchone`` / ``fetchrow`` of the same statement, one at a time, rows as dicts (raw asyncpg
  with ``json.loads`` as its JSON codec, so both sides hand out decoded documents). The same
  reads through ``db.fetch_one`` (rows as dicts, no model) show what the backend itself costs.
  The three take turns, one pass each per round, and the CPU time this process spends per
  read is printed beside them (the median pass): on a shared machine it moves far less than
  the wall-clock rates.

Models and driver rows are built inside every side's timer. SQLite runs once per
``--synchronous`` level (default FULL, then NORMAL), agentsdb (through ``?synchronous=`` in its
URL) and raw sqlite3 at the same level, read back and printed; PostgreSQL runs both sides on
one server, whose ``synchronous_commit`` and ``fsync`` are printed.

Each figure is the best of ``--repeat`` runs, as a rate (higher is better); the ratio is
agentsdb's rate over the baseline's, against the target of >= 70% of the raw driver. The raw
sqlite3 baseline runs without an event loop, so it also shows what the async layer costs. A
case a backend cannot run yet prints one line saying why. libSQL runs against the Hrana test
server in tests/ (in this process, over a real socket), for information only: no raw baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import durability

import agentsdb
from agentsdb import Migration, Migrator
from agentsdb.db.base import Database
from agentsdb.db.placeholders import translate
from agentsdb.db.url import parse_url
from agentsdb.errors import AgentsDBError
from agentsdb.migrator.tracking import head_sql
from agentsdb.models import Agent, Session, SessionLog, format_ts, now
from agentsdb.queries import SessionLogQueries
from agentsdb.repositories import AgentRepository, SessionLogRepository, SessionRepository

TARGET = 0.70
CONTENT = {"text": "The user asked for the weather in Lisbon; calling the forecast tool."}
LOG_COLUMNS = (
    "session_id",
    "parent_id",
    "role",
    "type",
    "content",
    "metadata",
    "created_at",
    "updated_at",
)
TRACKING_DDL = (
    "CREATE TABLE tracking (id TEXT PRIMARY KEY, description TEXT NOT NULL, "
    "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
TRACKING_TABLE = "agentsdb_migrations"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TESTS_FOLDER = Path(__file__).resolve().parent.parent / "tests"  # holds the Hrana test server


def make_migrations(count: int) -> list[Migration]:
    """Synthetic migrations whose statements are the same on both dialects."""
    return [
        Migration(
            id=f"{number:05d}",
            description=f"create table t{number}",
            up=[
                f"CREATE TABLE t{number} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                "created_at TEXT NOT NULL)",
                f"CREATE INDEX t{number}_name ON t{number} (name)",
            ],
        )
        for number in range(1, count + 1)
    ]


# --- printing ------------------------------------------------------------------------------------


def rate_text(rate: float, unit: str) -> str:
    return f"{rate:>12,.0f} {unit}"


def result(backend: str, case: str, ours: float, unit: str, baselines: dict[str, float]) -> None:
    """One case: agentsdb's rate, then each baseline with agentsdb's share of it."""
    print(f"{backend:<12} {case:<44} agentsdb {rate_text(ours, unit)}")
    for label, rate in baselines.items():
        ratio = ours / rate
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(
            f"{'':<12} {'':<44} {label:<8} {rate_text(rate, unit)}   "
            f"ratio {ratio:6.1%} (target >= {TARGET:.0%}: {verdict})"
        )


def informational(backend: str, case: str, ours: float, unit: str) -> None:
    print(f"{backend:<12} {case:<44} agentsdb {rate_text(ours, unit)}   (no raw baseline)")


def could_not_run(backend: str, case: str, error: BaseException) -> None:
    reason = " ".join(str(error).split())
    if len(reason) > 160:
        reason = reason[:160] + "…"
    print(f"{backend:<12} {case:<44} could not run: {type(error).__name__}: {reason}")


async def best_rate(repeat: int, run: Callable[[], Awaitable[float]]) -> float:
    return max([await run() for _ in range(repeat)])


# --- the agentsdb side (the same on every backend) -----------------------------------------------


async def ours_fresh_apply(url: str, migrations: list[Migration]) -> float:
    """Migrations applied per second on a new database."""
    async with agentsdb.connect(url) as db:
        migrator = Migrator(db, migrations)
        await migrator.initialize()
        started = time.perf_counter()
        results = await migrator.migrate()
        elapsed = time.perf_counter() - started
    assert len(results) == len(migrations)
    return len(migrations) / elapsed


async def ours_noop(url: str, migrations: list[Migration], repeat: int) -> float:
    """No-op ``migrate()`` calls per second (median), with every migration applied."""
    async with agentsdb.connect(url) as db:
        migrator = Migrator(db, migrations)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert await migrator.migrate() == []
            samples.append(time.perf_counter() - started)
    return 1 / statistics.median(samples)


async def new_session(db: Database) -> str:
    await Migrator(db).migrate()
    agent = await AgentRepository(db).create(Agent(name="bench", model="m"))
    session = await SessionRepository(db).create(Session(main_agent_id=agent.id))
    return session.id


def models_for(session_id: str, count: int) -> list[SessionLog]:
    return [
        SessionLog(session_id=session_id, role="agent", type="action", content=CONTENT)
        for _ in range(count)
    ]


async def ours_append_many(db: Database, session_id: str, n: int, repeat: int) -> float:
    repo = SessionLogRepository(db)

    async def once() -> float:
        started = time.perf_counter()
        stored = await repo.append_many(models_for(session_id, n))
        elapsed = time.perf_counter() - started
        assert len(stored) == n
        return n / elapsed

    return await best_rate(repeat, once)


async def log_ids(db: Database, count: int) -> list[int]:
    rows = await db.fetch_all("SELECT id FROM session_logs ORDER BY id")
    ids = [int(row["id"]) for row in rows]
    return random.Random(7).sample(ids, min(count, len(ids)))


def ours_reads(db: Database, ids: list[int]) -> Callable[[], Awaitable[float]]:
    """One pass of point reads through ``SessionLogRepository.get``, as a rate."""
    repo = SessionLogRepository(db)

    async def once() -> float:
        started = time.perf_counter()
        for log_id in ids:
            assert await repo.get(log_id) is not None
        return len(ids) / (time.perf_counter() - started)

    return once


def ours_row_reads(db: Database, ids: list[int]) -> Callable[[], Awaitable[float]]:
    """The same reads through ``db.fetch_one``: the backend's own cost, rows left as dicts."""

    async def once() -> float:
        started = time.perf_counter()
        for log_id in ids:
            assert await db.fetch_one(SessionLogQueries.get_by_id, {"id": log_id}) is not None
        return len(ids) / (time.perf_counter() - started)

    return once


@dataclass(frozen=True)
class Turns:
    """Each side's best rate, and the median CPU time of one pass (every thread of this
    process; the server's work, the same on every side, is not in it)."""

    rates: list[float]
    cpu_seconds: list[float]


async def in_turns(repeat: int, sides: list[Callable[[], Awaitable[float]]]) -> Turns:
    """Run the sides in turns, one pass each per round, so that a change in the machine's load
    meets all of them alike."""
    rates: list[list[float]] = [[] for _ in sides]
    cpu: list[list[float]] = [[] for _ in sides]
    for _ in range(repeat):
        for index, side in enumerate(sides):
            started = time.process_time()
            rates[index].append(await side())
            cpu[index].append(time.process_time() - started)
    return Turns([max(r) for r in rates], [statistics.median(c) for c in cpu])


def cpu_line(backend: str, labels: list[str], turns: Turns, reads: int) -> None:
    shares = ", ".join(
        f"{label} {seconds / reads * 1e6:.1f} µs"
        for label, seconds in zip(labels, turns.cpu_seconds, strict=True)
    )
    print(f"{backend:<12} {'':<44} CPU per read, this process (median): {shares}")


def raw_log_row(session_id: str) -> tuple[Any, ...]:
    """What a raw driver binds for one log: the same JSON and timestamps agentsdb stores."""
    stamp = format_ts(now())
    return (session_id, None, "agent", "action", json.dumps(dict(CONTENT)), "{}", stamp, stamp)


# --- backends ------------------------------------------------------------------------------------


class Backend:
    """A place to run the cases: fresh databases, and the raw driver's way of doing each."""

    name = ""
    has_baseline = True

    def fresh(self) -> Any:  # an async context manager yielding a URL
        raise NotImplementedError

    async def raw_fresh_apply(self, url: str, migrations: list[Migration]) -> float:
        raise NotImplementedError

    async def raw_noop(self, url: str, repeat: int) -> float:
        """The query agentsdb's no-op ``migrate()`` runs, on the database agentsdb migrated."""
        raise NotImplementedError

    async def settings(self, url: str) -> str:
        """The durability settings both sides run at, read from the database."""
        return "the test server's own settings"

    async def raw_append(self, url: str, session_id: str, n: int, repeat: int) -> dict[str, float]:
        raise NotImplementedError

    def raw_reads(self, url: str, ids: list[int]) -> Any:
        """An async context manager yielding one pass of the raw driver's reads, as a rate."""
        raise NotImplementedError


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


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, server_url: str, asyncpg: Any) -> None:
        self.server_url = server_url
        self.asyncpg = asyncpg

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        name = f"agentsdb_bench_{uuid.uuid4().hex[:12]}"
        admin = await self.asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        try:
            yield urlunsplit(urlsplit(self.server_url)._replace(path=f"/{name}"))
        finally:
            admin = await self.asyncpg.connect(self.server_url)
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            finally:
                await admin.close()

    async def raw_fresh_apply(self, url: str, migrations: list[Migration]) -> float:
        conn = await self.asyncpg.connect(url)
        try:
            await conn.execute(TRACKING_DDL)
            started = time.perf_counter()
            for migration in migrations:
                async with conn.transaction():
                    for statement in migration.up_statements("postgresql"):
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO tracking VALUES ($1, $2, $3, $4)",
                        migration.id,
                        migration.description,
                        "x",
                        format_ts(now()),
                    )
            return len(migrations) / (time.perf_counter() - started)
        finally:
            await conn.close()

    async def raw_noop(self, url: str, repeat: int) -> float:
        conn = await self.asyncpg.connect(url)
        head = head_sql(TRACKING_TABLE)
        try:
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                await conn.fetch(head)
                samples.append(time.perf_counter() - started)
            return 1 / statistics.median(samples)
        finally:
            await conn.close()

    async def settings(self, url: str) -> str:
        conn = await self.asyncpg.connect(url)
        try:
            commit = await conn.fetchval("SHOW synchronous_commit")
            fsync = await conn.fetchval("SHOW fsync")
        finally:
            await conn.close()
        return f"synchronous_commit={commit}, fsync={fsync} on every side (one server)"

    async def raw_append(self, url: str, session_id: str, n: int, repeat: int) -> dict[str, float]:
        conn = await self.asyncpg.connect(url)
        sql = translate(SessionLogQueries.insert_many).sql

        async def executemany() -> float:
            started = time.perf_counter()
            rows = [raw_log_row(session_id) for _ in range(n)]
            async with conn.transaction():
                await conn.executemany(sql, rows)
            return n / (time.perf_counter() - started)

        async def copy() -> float:
            started = time.perf_counter()
            rows = [raw_log_row(session_id) for _ in range(n)]
            async with conn.transaction():
                await conn.copy_records_to_table("session_logs", records=rows, columns=LOG_COLUMNS)
            return n / (time.perf_counter() - started)

        try:
            return {
                "executemany": await best_rate(repeat, executemany),
                "COPY": await best_rate(repeat, copy),
            }
        finally:
            await conn.close()

    @asynccontextmanager
    async def raw_reads(
        self, url: str, ids: list[int]
    ) -> AsyncIterator[Callable[[], Awaitable[float]]]:
        conn = await self.asyncpg.connect(url)
        # The JSON columns come back decoded, as agentsdb hands them out.
        for typename in ("json", "jsonb"):
            await conn.set_type_codec(
                typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
        sql = translate(SessionLogQueries.get_by_id).sql

        async def once() -> float:
            started = time.perf_counter()
            for log_id in ids:
                row = await conn.fetchrow(sql, log_id)
                assert dict(row.items())
            return len(ids) / (time.perf_counter() - started)

        try:
            yield once
        finally:
            await conn.close()


class LibsqlBackend(Backend):
    name = "libsql-ws"
    has_baseline = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        from hrana_server import HranaServer

        with HranaServer(self.folder / f"{uuid.uuid4().hex[:12]}-remote.db") as server:
            yield server.ws_url


# --- the cases -----------------------------------------------------------------------------------


async def migration_cases(backend: Backend, migrations: list[Migration], repeat: int) -> None:
    n = len(migrations)
    case = f"fresh apply of {n} migrations"
    async with backend.fresh() as url:
        print(f"{backend.name:<12} settings: {await backend.settings(url)}")
    try:
        ours = 0.0
        for _ in range(repeat):
            async with backend.fresh() as url:
                ours = max(ours, await ours_fresh_apply(url, migrations))
        if backend.has_baseline:
            raw = 0.0
            for _ in range(repeat):
                async with backend.fresh() as url:
                    raw = max(raw, await backend.raw_fresh_apply(url, migrations))
            result(backend.name, case, ours, "migrations/s", {"raw": raw})
        else:
            informational(backend.name, case, ours, "migrations/s")
    except AgentsDBError as error:
        could_not_run(backend.name, case, error)

    case = f"no-op migrate() with {n} applied"
    calls = max(repeat * 50, 100)
    try:
        async with backend.fresh() as url:
            await ours_fresh_apply(url, migrations)
            ours = await ours_noop(url, migrations, calls)
            if backend.has_baseline:
                raw = await backend.raw_noop(url, calls)
        if backend.has_baseline:
            result(backend.name, case, ours, "calls/s", {"raw": raw})
        else:
            informational(backend.name, case, ours, "calls/s")
    except AgentsDBError as error:
        could_not_run(backend.name, case, error)


async def repository_cases(backend: Backend, logs: int, reads: int, repeat: int) -> None:
    append_case = f"append_many of {logs:,} session logs"
    read_case = f"{reads:,} point reads by primary key"
    row_case = f"{reads:,} of them as rows (db.fetch_one, no model)"
    async with backend.fresh() as url:
        try:
            async with agentsdb.connect(url) as db:
                session_id = await new_session(db)
        except AgentsDBError as error:
            could_not_run(backend.name, append_case, error)
            could_not_run(backend.name, read_case, error)
            return
        try:
            async with agentsdb.connect(url) as db:
                ours = await ours_append_many(db, session_id, logs, repeat)
            if backend.has_baseline:
                raw = await backend.raw_append(url, session_id, logs, repeat)
                result(backend.name, append_case, ours, "rows/s", raw)
            else:
                informational(backend.name, append_case, ours, "rows/s")
        except AgentsDBError as error:
            could_not_run(backend.name, append_case, error)
        try:
            async with agentsdb.connect(url) as db:
                if not await db.fetch_one("SELECT id FROM session_logs LIMIT 1"):
                    await SessionLogRepository(db).append_many(models_for(session_id, logs))
                ids = await log_ids(db, reads)
                sides = [ours_reads(db, ids), ours_row_reads(db, ids)]
                labels = ["repository", "db.fetch_one"]
                if backend.has_baseline:
                    async with backend.raw_reads(url, ids) as raw_once:
                        turns = await in_turns(repeat, [*sides, raw_once])
                    ours, ours_rows, raw = turns.rates
                    labels.append("raw")
                else:
                    turns = await in_turns(repeat, sides)
                    ours, ours_rows = turns.rates
            if backend.has_baseline:
                result(backend.name, read_case, ours, "reads/s", {"raw": raw})
                result(backend.name, row_case, ours_rows, "reads/s", {"raw": raw})
                cpu_line(backend.name, labels, turns, len(ids))
            else:
                informational(backend.name, read_case, ours, "reads/s")
                informational(backend.name, row_case, ours_rows, "reads/s")
        except AgentsDBError as error:
            could_not_run(backend.name, read_case, error)


async def postgres_backend(url: str) -> PostgresBackend | str:
    """The PostgreSQL backend, or why it is not available."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        return f"no PostgreSQL server at {url}: {error}"
    version = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(f"postgresql {version}, asyncpg {asyncpg.__version__}")
    return PostgresBackend(url, asyncpg)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=200)
    parser.add_argument("--logs", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AGENTSDB_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
    )
    parser.add_argument("--no-libsql", action="store_true", help="leave the libSQL runs out")
    parser.add_argument("--no-sqlite", action="store_true", help="leave the SQLite runs out")
    durability.add_argument(parser)
    args = parser.parse_args()

    print(f"agentsdb {agentsdb.__version__}, python {sys.version.split()[0]}")
    print(f"sqlite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="agentsdb-bench-") as tmp:
        folder = Path(tmp)
        backends: list[Backend] = []
        if not args.no_sqlite:
            backends.extend(SQLiteBackend(folder, level) for level in args.synchronous)
        postgres = await postgres_backend(args.postgres_url)
        if isinstance(postgres, str):
            print(f"{'postgresql':<12} every case{'':<34} could not run: {postgres}")
        else:
            backends.append(postgres)
        if not args.no_libsql:
            sys.path.insert(0, str(TESTS_FOLDER))
            backends.append(LibsqlBackend(folder))
        migrations = make_migrations(args.migrations)
        print(
            f"\nrates, best of {args.repeat} runs (no-op migrate: median); ratio = agentsdb / "
            f"baseline, target >= {TARGET:.0%}\n"
        )
        for backend in backends:
            await migration_cases(backend, migrations, args.repeat)
            await repository_cases(backend, args.logs, args.reads, args.repeat)
            print()


if __name__ == "__main__":
    asyncio.run(main())
