"""What every backend and case of ``bench_backends.py`` shares: the target, the synthetic
migrations, agentsdb's side of each case, the timers and the report lines, and the
``Backend`` each backend module implements."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agentsdb
from agentsdb import Migration, Migrator
from agentsdb.db.base import Database
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
TESTS_FOLDER = Path(__file__).resolve().parents[2] / "tests"  # holds the Hrana test server


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
