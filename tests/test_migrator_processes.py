"""The Migrator across real processes: racing starts, and SIGKILL in the middle of a migration."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

TRACKING = "agentsdb_migrations"
SLOW_ROWS = 10_000_000  # the slow migration walks this many CTE rows and keeps a tenth of them

CHILD = textwrap.dedent(
    '''
    """Runs one Migrator action on a database, as a separate process would at start-up."""

    import asyncio
    import json
    import logging
    import sys
    import time
    from pathlib import Path

    import agentsdb
    from agentsdb import Migration, Migrator


    def slow_insert(rows: int) -> str:
        return (
            f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) "
            "INSERT INTO big (x) SELECT x FROM c WHERE x % 10 = 0"
        )


    def table(migration_id: str, rows: int = 0) -> Migration:
        name = f"t{migration_id}"
        up = [f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v INTEGER)"]
        if rows:
            up.append(
                f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) "
                f"INSERT INTO {name} (v) SELECT x FROM c"
            )
        up.append(f"INSERT INTO events (migration) VALUES ('{migration_id}')")
        return Migration(id=migration_id, description=f"create {name}", up=up)


    EVENTS = Migration(
        id="001",
        description="events",
        up=["CREATE TABLE events (seq INTEGER PRIMARY KEY, migration TEXT NOT NULL)"],
    )


    def build(kind: str, slow_rows: int) -> list[Migration]:
        if kind == "race":
            return [EVENTS, *(table(f"{n:03d}", rows=5000) for n in range(2, 21))]
        slow = Migration(
            id="003",
            description="big backfill",
            up=["CREATE TABLE big (x INTEGER NOT NULL)", slow_insert(slow_rows)],
            transactional=(kind == "slow"),
        )
        return [EVENTS, table("002"), slow, table("004")]


    class SkipCounter(logging.Handler):
        """Counts migrations found applied by another process once this one held the lock."""

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def emit(self, record: logging.LogRecord) -> None:
            if "applied by another process" in record.getMessage():
                self.count += 1


    class Marker(logging.Handler):
        """Touches a file when a log line mentions the given migration."""

        def __init__(self, path: str, migration_id: str) -> None:
            super().__init__()
            self.path = Path(path)
            self.needle = f"applied migration {migration_id} "

        def emit(self, record: logging.LogRecord) -> None:
            if self.needle in record.getMessage():
                self.path.touch()


    async def main(options: dict) -> dict:
        logger = logging.getLogger("agentsdb.migrations")
        logger.setLevel(logging.INFO)
        skips = SkipCounter()
        logger.addHandler(skips)
        if options.get("marker"):
            logger.addHandler(Marker(options["marker"], options["marker_after"]))
        async with agentsdb.connect(options["db"]) as db:
            migrator = Migrator(db, build(options["kind"], options["slow_rows"]))
            if options.get("initialize"):
                await migrator.initialize()
            if options.get("ready"):
                Path(options["ready"]).touch()
                while not Path(options["go"]).exists():
                    time.sleep(0.002)
            if options["action"] == "repair-remove":
                await migrator.repair(options["id"], mark_applied=False)
                return {"repaired": options["id"]}
            try:
                results = await migrator.migrate()
            except agentsdb.AgentsDBError as error:
                return {"error": type(error).__name__, "message": str(error)}
            validation = await migrator.validate_migrations()
            return {
                "applied": [result.migration.id for result in results],
                "skipped": skips.count,
                "valid": validation.is_valid,
                "errors": validation.errors,
            }


    options = json.loads(sys.argv[1])
    outcome = asyncio.run(main(options))
    Path(options["out"]).write_text(json.dumps(outcome))
    '''
)


class Child:
    """One migrating process."""

    def __init__(self, tmp_path: Path, name: str, **options: Any) -> None:
        self.out = tmp_path / f"{name}.json"
        self.options = {
            "db": str(tmp_path / "shared.db"),
            "kind": "race",
            "slow_rows": SLOW_ROWS,
            "action": "migrate",
            "out": str(self.out),
            **options,
        }
        script = tmp_path / "child.py"
        if not script.exists():
            script.write_text(CHILD)
        self.process = subprocess.Popen(
            [sys.executable, str(script), json.dumps(self.options)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        """Wait for a normal exit and return what the child reported."""
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        finally:
            self.kill()
        assert self.process.returncode == 0, stderr
        outcome: dict[str, Any] = json.loads(self.out.read_text())
        return outcome

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


def wait_for(condition: Callable[[], bool], child: Child, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if child.process.poll() is not None:
            _, stderr = child.process.communicate()
            pytest.fail(
                f"the child exited (code {child.process.returncode}) before {what}: {stderr}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def tables(db: Path) -> set[str]:
    return {row[0] for row in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def tracking(db: Path) -> list[tuple[str, int]]:
    return [
        (row[0], row[1]) for row in query(db, f"SELECT id, success FROM {TRACKING} ORDER BY seq")
    ]


def wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


# --- racing processes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "initialized",
    [pytest.param(False, id="new-database"), pytest.param(True, id="tracking-table-exists")],
)
def test_processes_racing_migrate_apply_each_migration_exactly_once(
    tmp_path: Path, initialized: bool
) -> None:
    go = tmp_path / "go"
    children = [
        Child(
            tmp_path,
            f"racer{i}",
            ready=str(tmp_path / f"ready{i}"),
            go=str(go),
            initialize=initialized,
        )
        for i in range(5)
    ]
    try:
        for i, child in enumerate(children):
            wait_for((tmp_path / f"ready{i}").exists, child, f"racer {i} to connect")
        go.touch()  # every process starts migrating at once
        outcomes = [child.finish() for child in children]
    finally:
        for child in children:
            child.kill()
    db = tmp_path / "shared.db"
    all_ids = [f"{n:03d}" for n in range(1, 21)]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    applied = [mid for outcome in outcomes for mid in outcome["applied"]]
    assert sorted(applied) == all_ids  # no process failed, none applied anything twice
    if initialized:
        # The race really happened: processes planned with a stale applied set and, once they
        # held the write lock, found those migrations already applied by another process. (On a
        # new database the losers usually queue behind the winner to create the tracking table
        # and then find nothing pending.)
        assert sum(outcome["skipped"] for outcome in outcomes) > 0, outcomes
    assert all(outcome["valid"] for outcome in outcomes), outcomes
    assert tracking(db) == [(mid, 1) for mid in all_ids]
    events = query(db, "SELECT migration, count(*) FROM events GROUP BY migration ORDER BY 1")
    assert events == [(mid, 1) for mid in all_ids[1:]]
    assert query(db, "SELECT count(*) FROM t020") == [(5000,)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


# --- SIGKILL mid-migration -----------------------------------------------------------------------


SCHEMA = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"


def kill_during_slow_migration(tmp_path: Path, kind: str) -> tuple[Path, list[tuple[Any, ...]]]:
    """Start migrating, SIGKILL the process while migration 003 is writing.

    Returns the database and its schema as committed right after migration 002.
    """
    db = tmp_path / "shared.db"
    marker = tmp_path / "002-applied"
    child = Child(tmp_path, "victim", kind=kind, marker=str(marker), marker_after="002")
    try:
        wait_for(marker.exists, child, "migration 002 to be applied")
        before = wal_size(db)
        schema_at_002 = query(db, SCHEMA)
        # 003 is now running; once its rows spill into the WAL it is well inside its work.
        wait_for(lambda: wal_size(db) > before + 512 * 1024, child, "migration 003 to write")
        assert child.process.poll() is None
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.communicate(timeout=30)
        assert child.process.returncode == -signal.SIGKILL
    finally:
        child.kill()
    assert not child.out.exists()  # it never got to report
    return db, schema_at_002


def test_sigkill_in_the_middle_of_a_migration_leaves_the_previous_version(
    tmp_path: Path,
) -> None:
    db, schema_at_002 = kill_during_slow_migration(tmp_path, "slow")
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, SCHEMA) == schema_at_002
    assert tracking(db) == [("001", 1), ("002", 1)]
    assert "big" not in tables(db)
    assert "t004" not in tables(db)
    assert query(db, "SELECT migration FROM events") == [("002",)]

    rerun = Child(tmp_path, "rerun", kind="slow").finish()
    assert (rerun["applied"], rerun["valid"], rerun["errors"]) == (["003", "004"], True, [])
    assert tracking(db) == [("001", 1), ("002", 1), ("003", 1), ("004", 1)]
    assert query(db, "SELECT count(*) FROM big") == [(SLOW_ROWS // 10,)]
    assert Child(tmp_path, "again", kind="slow").finish()["applied"] == []


def test_sigkill_in_a_non_transactional_migration_leaves_it_dirty_until_repaired(
    tmp_path: Path,
) -> None:
    db, _ = kill_during_slow_migration(tmp_path, "slow-nontransactional")
    assert tracking(db) == [("001", 1), ("002", 1), ("003", 0)]
    assert "big" in tables(db)  # its first statement had committed on its own
    assert query(db, "SELECT count(*) FROM big") == [(0,)]  # the killed statement left nothing

    refused = Child(tmp_path, "refused", kind="slow-nontransactional").finish()
    assert refused["error"] == "DirtyMigrationError"
    assert "agentsdb repair 003" in refused["message"]
    assert tracking(db) == [("001", 1), ("002", 1), ("003", 0)]

    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE big")  # the operator undoes the partial work
    conn.close()
    Child(
        tmp_path, "repair", kind="slow-nontransactional", action="repair-remove", id="003"
    ).finish()
    rerun = Child(tmp_path, "rerun", kind="slow-nontransactional").finish()
    assert (rerun["applied"], rerun["valid"], rerun["errors"]) == (["003", "004"], True, [])
    assert tracking(db) == [("001", 1), ("002", 1), ("003", 1), ("004", 1)]
