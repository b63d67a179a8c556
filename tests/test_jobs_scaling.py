"""Every job's work on the source grows as N log N at worst, on a legacy source with no index but
its primary keys, and the job sends the source nothing but reads.

The source is wrapped so that every statement a job sends it is recorded; each recorded read is
then replayed on a plain read-only sqlite3 connection that counts SQLite virtual-machine
instructions. The count is deterministic (no clocks), and it is compared at N and 4N rows: linear
work gives a ratio near 4, N log N a little more, and a per-batch scan of a whole table (the
quadratic behaviour) about 16.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from forwarding_database import ForwardingDatabase
from jobs_support import BLUESKY_DDL, LEGACY_DDL, profile

import agentsdb
from agentsdb.db.base import Database, ExecuteResult, Params, Program
from agentsdb.jobs import AgentScopeJob, BlueskyProfilesJob, Job, run_job

BATCH = 100
#: Work at 4N over work at N above which the job is not N log N (quadratic gives ~16).
MAX_RATIO = 6.0


class RecordingSource(ForwardingDatabase):
    """A source Database that records every read and refuses every write."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.reads: list[tuple[str, dict[str, Any]]] = []

    def on_statement(self, sql: str, params: Params | Sequence[Params] | None) -> None:
        # Only the fetches get here: the writes below refuse before it.
        assert params is None or isinstance(params, Mapping)
        self.reads.append((sql, dict(params or {})))

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        raise AssertionError(f"a job wrote to its source: {sql[:80]}")

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        raise AssertionError(f"a job wrote to its source: {sql[:80]}")

    async def run(self, program: Program[Any]) -> Any:
        raise AssertionError("a job ran a program on its source")

    def transaction(self) -> Any:
        raise AssertionError("a job opened a transaction on its source")

    def group_commit(self, key: str, write: Any) -> Any:
        raise AssertionError("a job queued rows for group commit on its source")

    def migration_runner(self, lock_name: str, lock_timeout: float) -> Any:
        raise AssertionError("a job migrated its source")


def replayed_instructions(path: Path, reads: list[tuple[str, dict[str, Any]]]) -> int:
    """SQLite VM instructions the recorded reads take on a fresh read-only connection."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.set_progress_handler(tick, 100)
        for sql, params in reads:
            conn.execute(sql, params).fetchall()
    return counted[0] * 100


def schema_of(path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


async def source_work(job: Job, source_path: Path, target_path: Path) -> int:
    """Run ``job`` and return the VM instructions of everything it asked the source."""
    schema = schema_of(source_path)
    async with agentsdb.connect(str(target_path)) as target:
        await agentsdb.Migrator(target).migrate()
        async with agentsdb.connect(str(source_path)) as db:
            source = RecordingSource(db)
            report = await run_job(job, source, target, batch_size=BATCH, progress=False)  # type: ignore[arg-type]
    assert report.rows_read > 0
    assert schema_of(source_path) == schema, "the job changed the source's schema"
    return replayed_instructions(source_path, source.reads)


def bluesky_without_indexes(path: Path, n: int) -> None:
    """Profiles and bios with no index but the primary keys (no agent_bios(handle) index)."""
    with closing(sqlite3.connect(path)) as conn:
        for ddl in BLUESKY_DDL:
            if not ddl.startswith("CREATE INDEX"):
                conn.execute(ddl)
        conn.executemany(
            "INSERT INTO bluesky_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (profile(f"user{i:06d}", bio=f"bio {i}" if i % 2 else None) for i in range(n)),
        )
        conn.executemany(
            "INSERT INTO agent_bios VALUES (?, ?, ?, ?)",
            (
                (i, f"user{(i * 7919) % n:06d}", f"generated {i}", f"2024-01-{1 + i % 28:02d}")
                for i in range(n)
            ),
        )
        conn.commit()


def legacy_without_indexes(path: Path, n: int) -> None:
    """Personas, conversations, messages and vectors with their primary keys only."""
    conversations = max(1, n // 10)
    with closing(sqlite3.connect(path)) as conn:
        for ddl in LEGACY_DDL:
            conn.execute(ddl)
        conn.executemany(
            "INSERT INTO personas VALUES (?, ?, ?)", ((f"p{i:03d}", f"P{i}", 1) for i in range(20))
        )
        conn.executemany(
            "INSERT INTO conversations VALUES (?, ?, ?, ?)",
            ((f"c{i:06d}", f"p{i % 20:03d}", None, None) for i in range(conversations)),
        )
        # Ids in another order than conversations, and a duplicate now and then.
        conn.executemany(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    f"m{(i * 7919) % n:06d}",
                    f"c{i % conversations:06d}",
                    None,
                    "user",
                    f"message {i // 30}",
                    None,
                )
                for i in range(n)
            ),
        )
        conn.executemany(
            "INSERT INTO memory_vectors VALUES (?, ?, ?, ?, ?)",
            (
                (f"v{i:06d}", f"p{i % 20:03d}", f"c{i % conversations:06d}", "x", b"\0")
                for i in range(n // 4)
            ),
        )
        conn.commit()


@pytest.mark.parametrize(
    ("job", "make_source", "n"),
    [
        (BlueskyProfilesJob, bluesky_without_indexes, 1500),
        (lambda: AgentScopeJob(), legacy_without_indexes, 2000),
    ],
    ids=["bluesky-profiles", "agent-scope"],
)
async def test_work_on_a_sqlite_source_grows_as_n_log_n_without_its_indexes(
    tmp_path: Path,
    job: Callable[[], Job],
    make_source: Callable[[Path, int], None],
    n: int,
) -> None:
    work = {}
    for size in (n, 4 * n):
        source = tmp_path / f"source-{size}.db"
        make_source(source, size)
        work[size] = await source_work(job(), source, tmp_path / f"target-{size}.db")
    ratio = work[4 * n] / work[n]
    assert ratio <= MAX_RATIO, f"source work at 4N / at N = {ratio:.1f} ({work})"
