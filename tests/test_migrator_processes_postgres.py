"""The Migrator across real processes on PostgreSQL: racing starts, SIGKILL in the middle of a
migration, and a failed ``CREATE INDEX CONCURRENTLY`` left dirty until ``repair``.

The SQLite counterpart is tests/test_migrator_processes.py. Each test gets a fresh database on
the test server (``postgres_url``); the children connect to it as separate processes would at
start-up. The tests block on their children, which is fine: nothing else runs on their loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

TRACKING = "agentsdb_migrations"
SLOW_STATEMENTS = 100  # the slow migration's INSERT statements, each of SLOW_ROWS rows
SLOW_ROWS = 20_000

CHILD = textwrap.dedent(
    '''
    """Runs one Migrator action on a PostgreSQL database, as a separate process would."""

    import asyncio
    import json
    import logging
    import sys
    import time
    from pathlib import Path

    import agentsdb
    from agentsdb import Migration, Migrator


    def table(migration_id: str, rows: int = 0) -> Migration:
        name = f"t{migration_id}"
        up = [f"CREATE TABLE {name} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v INT)"]
        if rows:
            up.append(f"INSERT INTO {name} (v) SELECT g FROM generate_series(1, {rows}) AS g")
        up.append(f"INSERT INTO events (migration) VALUES ('{migration_id}')")
        return Migration(id=migration_id, description=f"create {name}", up=up)


    EVENTS = Migration(
        id="001",
        description="events",
        up=["CREATE TABLE events (seq BIGSERIAL PRIMARY KEY, migration TEXT NOT NULL)"],
    )


    def slow(kind: str, options: dict) -> Migration:
        statements, rows = options["slow_statements"], options["slow_rows"]
        up = ["CREATE TABLE big (x INT NOT NULL)"]
        if kind == "sleep":
            up.append(f"SELECT pg_sleep({options['sleep_seconds']})")
        else:
            insert = f"INSERT INTO big (x) SELECT g FROM generate_series(1, {rows}) AS g"
            up.extend([insert] * statements)
        return Migration(id="003", description="big backfill", up=up)


    def concurrently() -> Migration:
        # The second index fails on the duplicate rows migration 002 inserted, after the first
        # was built and committed on its own: the migration stops part-way.
        return Migration(
            id="003",
            description="indexes built concurrently",
            up=[
                "CREATE INDEX CONCURRENTLY dup_v ON dup (v)",
                "CREATE UNIQUE INDEX CONCURRENTLY dup_v_unique ON dup (v)",
            ],
            transactional=False,
        )


    def build(kind: str, options: dict) -> list[Migration]:
        if kind == "race":
            return [EVENTS, *(table(f"{n:03d}", rows=5000) for n in range(2, 21))]
        if kind == "concurrently":
            dup = Migration(
                id="002",
                description="dup",
                up=[
                    "CREATE TABLE dup (id BIGINT PRIMARY KEY, v INT NOT NULL)",
                    "INSERT INTO dup (id, v) SELECT g, g % 900 FROM generate_series(1, 1000) g",
                ],
            )
            return [EVENTS, dup, concurrently(), table("004")]
        return [
            EVENTS,
            table("002"),
            slow(kind, options),
            table("004"),
        ]


    class SkipCounter(logging.Handler):
        """Counts migrations found applied by another process once this one held the lock."""

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def emit(self, record: logging.LogRecord) -> None:
            if "applied by another process" in record.getMessage():
                self.count += 1


    class Marker(logging.Handler):
        """Touches a file when a log line says the given migration was applied."""

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
        connect_options = {}
        if options.get("server_settings"):
            connect_options["server_settings"] = options["server_settings"]
        async with agentsdb.connect(options["db"], **connect_options) as db:
            migrator = Migrator(
                db, build(options["kind"], options), lock_timeout=options["lock_timeout"]
            )
            if options.get("initialize"):
                await migrator.initialize()
            if options.get("ready"):
                Path(options["ready"]).touch()
                while not Path(options["go"]).exists():
                    time.sleep(0.002)
            if options["action"] == "repair-remove":
                await migrator.repair(options["id"], mark_applied=False)
                return {"repaired": options["id"]}
            started = time.monotonic()
            try:
                results = await migrator.migrate()
            except agentsdb.AgentsDBError as error:
                return {"error": type(error).__name__, "message": str(error)}
            elapsed = time.monotonic() - started
            validation = await migrator.validate_migrations()
            return {
                "applied": [result.migration.id for result in results],
                "skipped": skips.count,
                "seconds": elapsed,
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

    def __init__(self, tmp_path: Path, url: str, name: str, **options: Any) -> None:
        self.out = tmp_path / f"{name}.json"
        self.options = {
            "db": url,
            "kind": "race",
            "slow_statements": SLOW_STATEMENTS,
            "slow_rows": SLOW_ROWS,
            "lock_timeout": 60.0,
            "sleep_seconds": 30,
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

    def finish(self, timeout: float = 90) -> dict[str, Any]:
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


def wait_for(condition: Callable[[], bool], child: Child, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if child.process.poll() is not None:
            _, stderr = child.process.communicate()
            pytest.fail(
                f"the child exited (code {child.process.returncode}) before {what}: {stderr}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Inspector:
    """Reads the database from the test's side, on its own asyncpg connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return [tuple(record) for record in await self.connection.fetch(sql, *args)]

    async def tables(self) -> set[str]:
        rows = await self.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return {row[0] for row in rows}

    async def tracking(self) -> list[tuple[str, bool]]:
        rows = await self.rows(f"SELECT id, success FROM {TRACKING} ORDER BY seq")
        return [(row[0], bool(row[1])) for row in rows]

    async def schema(self) -> list[tuple[Any, ...]]:
        return await self.rows(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        )

    async def advisory_locks(self) -> int:
        rows = await self.rows(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
        )
        return int(rows[0][0])

    async def active_query_like(self, pattern: str) -> bool:
        rows = await self.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1",
            pattern,
        )
        return int(rows[0][0]) > 0


@pytest.fixture
async def inspector(postgres_url: str, asyncpg_driver: ModuleType) -> AsyncIterator[Inspector]:
    connection = await asyncpg_driver.connect(postgres_url, timeout=10)
    try:
        yield Inspector(connection)
    finally:
        await connection.close()


async def wait_until(check: Callable[[], Awaitable[bool]], child: Child, what: str) -> None:
    """wait_for on a query of the database."""
    deadline = time.monotonic() + 30
    while not await check():
        if child.process.poll() is not None:
            _, stderr = child.process.communicate()
            pytest.fail(
                f"the child exited (code {child.process.returncode}) before {what}: {stderr}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# --- racing processes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "initialized",
    [pytest.param(False, id="new-database"), pytest.param(True, id="tracking-table-exists")],
)
async def test_processes_racing_migrate_apply_each_migration_exactly_once(
    tmp_path: Path, postgres_url: str, inspector: Inspector, initialized: bool
) -> None:
    go = tmp_path / "go"
    children = [
        Child(
            tmp_path,
            postgres_url,
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
    all_ids = [f"{n:03d}" for n in range(1, 21)]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    applied = [mid for outcome in outcomes for mid in outcome["applied"]]
    assert sorted(applied) == all_ids  # no process failed, none applied anything twice
    if initialized:
        # The race really happened: processes planned with a stale applied set and, once they
        # held the lock, found those migrations already applied by another process.
        assert sum(outcome["skipped"] for outcome in outcomes) > 0, outcomes
    assert all(outcome["valid"] for outcome in outcomes), outcomes
    assert await inspector.tracking() == [(mid, True) for mid in all_ids]
    events = await inspector.rows(
        "SELECT migration, count(*) FROM events GROUP BY migration ORDER BY 1"
    )
    assert events == [(mid, 1) for mid in all_ids[1:]]
    assert await inspector.rows("SELECT count(*) FROM t020") == [(5000,)]
    assert await inspector.advisory_locks() == 0


# --- SIGKILL mid-migration -----------------------------------------------------------------------

# PostgreSQL notices a vanished client only when it next reads from the socket, so a statement
# that is running when its client is killed runs to its end, keeping the transaction and the
# advisory lock until then (measured: a killed pg_sleep(30) held the lock 29.6 s). Migration
# transactions set client_connection_check_interval (PostgreSQL 14+) to one second, so the
# server notices during the statement.
KILL_CASES = [
    pytest.param("slow", {}, "INSERT INTO big%", id="between-short-statements"),
    pytest.param("sleep", {}, "SELECT pg_sleep(%", id="in-a-long-statement"),
]


@pytest.mark.parametrize(("kind", "server_settings", "running"), KILL_CASES)
async def test_sigkill_in_the_middle_of_a_migration_leaves_the_previous_version_and_no_lock(
    tmp_path: Path,
    postgres_url: str,
    inspector: Inspector,
    kind: str,
    server_settings: dict[str, str],
    running: str,
) -> None:
    marker = tmp_path / "002-applied"
    child = Child(
        tmp_path,
        postgres_url,
        "victim",
        kind=kind,
        marker=str(marker),
        marker_after="002",
        server_settings=server_settings,
        sleep_seconds=30,
    )
    try:
        wait_for(marker.exists, child, "migration 002 to be applied")
        schema_at_002 = await inspector.schema()
        await wait_until(lambda: inspector.active_query_like(running), child, "003 to run")
        await asyncio.sleep(0.3)  # well inside it
        assert child.process.poll() is None
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.communicate(timeout=30)
        assert child.process.returncode == -signal.SIGKILL
    finally:
        child.kill()
    assert not child.out.exists()  # it never got to report

    killed_at = time.monotonic()
    while await inspector.advisory_locks():
        assert time.monotonic() - killed_at < 5, "the killed migrator's advisory lock was kept"
        await asyncio.sleep(0.02)
    assert await inspector.schema() == schema_at_002
    assert await inspector.tracking() == [("001", True), ("002", True)]
    assert {"big", "t004"}.isdisjoint(await inspector.tables())
    assert await inspector.rows("SELECT migration FROM events") == [("002",)]

    # 003 was never recorded, so the rerun may define it with a short sleep (same checksum rules).
    rerun = Child(
        tmp_path, postgres_url, "rerun", kind=kind, lock_timeout=5.0, sleep_seconds=0.1
    ).finish()
    assert "error" not in rerun, rerun
    assert (rerun["applied"], rerun["valid"], rerun["errors"]) == (["003", "004"], True, [])
    assert await inspector.tracking() == [
        ("001", True),
        ("002", True),
        ("003", True),
        ("004", True),
    ]
    assert await inspector.rows("SELECT migration FROM events ORDER BY seq") == [
        ("002",),
        ("004",),
    ]
    if kind == "slow":
        count = await inspector.rows("SELECT count(*) FROM big")
        assert count == [(SLOW_STATEMENTS * SLOW_ROWS,)]
    again = Child(tmp_path, postgres_url, "again", kind=kind, sleep_seconds=0.1).finish()
    assert again["applied"] == []
    assert await inspector.advisory_locks() == 0


async def test_with_the_client_check_made_rare_a_killed_statement_keeps_the_lock_until_it_ends(
    tmp_path: Path, postgres_url: str, inspector: Inspector
) -> None:
    """Why migration transactions set client_connection_check_interval: with the server's check
    made rare (a value of its own in server_settings, which agentsdb leaves alone), the killed
    process's pg_sleep(3) runs on, and a new migrator waits for its lock instead of failing."""
    marker = tmp_path / "002-applied"
    child = Child(
        tmp_path,
        postgres_url,
        "victim",
        kind="sleep",
        marker=str(marker),
        marker_after="002",
        server_settings={"client_connection_check_interval": "600000"},
        sleep_seconds=3,
    )
    try:
        wait_for(marker.exists, child, "migration 002 to be applied")
        await wait_until(
            lambda: inspector.active_query_like("SELECT pg_sleep(%"), child, "003 to run"
        )
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.communicate(timeout=30)
    finally:
        child.kill()
    killed_at = time.monotonic()
    await asyncio.sleep(0.5)
    assert await inspector.advisory_locks() == 1  # the dead client's statement still runs

    rerun = Child(
        tmp_path, postgres_url, "rerun", kind="sleep", lock_timeout=20.0, sleep_seconds=0.1
    ).finish()
    assert "error" not in rerun, rerun
    assert rerun["applied"] == ["003", "004"]
    # It could only start once the killed statement ended, about 3 s after it began.
    assert time.monotonic() - killed_at > 1.5
    assert await inspector.tracking() == [
        ("001", True),
        ("002", True),
        ("003", True),
        ("004", True),
    ]


# --- a failed non-transactional migration --------------------------------------------------------


async def test_a_failed_create_index_concurrently_is_left_dirty_until_repaired(
    tmp_path: Path, postgres_url: str, inspector: Inspector
) -> None:
    failed = Child(tmp_path, postgres_url, "first", kind="concurrently").finish()
    assert failed["error"] == "MigrationError"
    assert "recorded as dirty" in failed["message"]
    assert await inspector.tracking() == [("001", True), ("002", True), ("003", False)]
    # Part-way: the first index was built and kept; the failed unique one is left INVALID.
    indexes = await inspector.rows(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'dup'::regclass AND NOT i.indisprimary ORDER BY 1"
    )
    assert indexes == [("dup_v", True), ("dup_v_unique", False)]

    refused = Child(tmp_path, postgres_url, "refused", kind="concurrently").finish()
    assert refused["error"] == "DirtyMigrationError"
    assert "agentsdb repair 003" in refused["message"]
    assert await inspector.tracking() == [("001", True), ("002", True), ("003", False)]

    # The operator undoes the partial work and fixes the data, then removes the record.
    await inspector.connection.execute("DROP INDEX dup_v")
    await inspector.connection.execute("DROP INDEX dup_v_unique")
    await inspector.connection.execute("UPDATE dup SET v = id")
    Child(
        tmp_path, postgres_url, "repair", kind="concurrently", action="repair-remove", id="003"
    ).finish()
    assert await inspector.tracking() == [("001", True), ("002", True)]

    rerun = Child(tmp_path, postgres_url, "rerun", kind="concurrently").finish()
    assert (rerun["applied"], rerun["valid"], rerun["errors"]) == (["003", "004"], True, [])
    assert await inspector.tracking() == [
        ("001", True),
        ("002", True),
        ("003", True),
        ("004", True),
    ]
    indexes = await inspector.rows(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'dup'::regclass AND NOT i.indisprimary ORDER BY 1"
    )
    assert indexes == [("dup_v", True), ("dup_v_unique", True)]
    assert await inspector.advisory_locks() == 0
