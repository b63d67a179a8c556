"""The Migrator's checks and reports, on every backend: registration, the no-op start, drift,
validation, the summary, logging, and racing connections."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from migrator_support import (
    EVENTS,
    TRACKING,
    applied_ids,
    chain,
    event_counts,
    result_ids,
    schema,
    table_migration,
    tracking_rows,
)

import agentsdb
from agentsdb import (
    ChecksumMismatchError,
    Database,
    Migration,
    MigrationDefinitionError,
    Migrator,
    SchemaDriftError,
)
from agentsdb.migrator.plan import chain_of


async def test_duplicate_id_is_rejected_at_registration(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migration(table_migration("002"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migration(table_migration("2"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migrations([table_migration("003"), table_migration("003")])
    assert [m.id for m in migrator.migrations] == ["001", "002"]  # all or nothing
    migrator.add_migrations([table_migration("004"), table_migration("003")])
    assert [m.id for m in migrator.migrations] == ["001", "002", "003", "004"]


async def test_lint_failure_is_rejected_at_registration(any_db: Database) -> None:
    bad = Migration(
        id="002",
        description="rebuild the wrong way",
        up=["PRAGMA foreign_keys = OFF", "CREATE TABLE x (id INTEGER)", "COMMIT"],
    )
    with pytest.raises(MigrationDefinitionError) as caught:
        Migrator(any_db, [EVENTS, bad])
    assert caught.value.migration_id == "002"
    assert "declare foreign_keys=False" in caught.value.problem
    assert "COMMIT controls the transaction" in caught.value.problem
    migrator = Migrator(any_db, [EVENTS])
    with pytest.raises(MigrationDefinitionError, match="VACUUM"):
        migrator.add_migration(Migration(id="002", description="v", up=["VACUUM"]))
    assert [m.id for m in migrator.migrations] == ["001"]
    migrator.add_migration(Migration(id="002", description="v", up=["VACUUM"], transactional=False))


async def test_noop_start_still_notices_an_edited_migration(any_db: Database) -> None:
    await Migrator(any_db, chain("002")).migrate()
    edited = Migration(id="002", description="x", up=["CREATE TABLE t002 (id INTEGER)"])
    with pytest.raises(ChecksumMismatchError):
        await Migrator(any_db, [EVENTS, edited]).migrate()


async def test_schema_change_outside_migrations_is_reported_as_drift(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003"))
    await migrator.migrate()
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    validation = await migrator.validate_migrations()
    assert not validation.is_valid
    (error,) = validation.errors
    assert "changed outside migrations" in error
    assert "003" in error
    await any_db.execute("DROP TABLE rogue")
    assert (await migrator.validate_migrations()).is_valid
    await any_db.execute("CREATE INDEX rogue_index ON t002 (id, v)")
    assert not (await migrator.validate_migrations()).is_valid


async def test_whitespace_only_schema_difference_is_not_drift(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002"))
    await migrator.migrate()
    # The same index again, its DDL laid out differently (SQLite keeps the text as written).
    await any_db.execute("DROP INDEX t002_v")
    await any_db.execute("CREATE  INDEX   t002_v\n    ON t002\t(v)")
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    # Control: the same change with another column is drift.
    await any_db.execute("DROP INDEX t002_v")
    await any_db.execute("CREATE INDEX t002_v ON t002 (id)")
    assert not (await migrator.validate_migrations()).is_valid


async def test_validate_warns_when_drift_cannot_be_checked(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002"))
    await migrator.migrate()
    # As after a run killed between its last migration and recording the fingerprint.
    await any_db.execute(f"UPDATE {TRACKING} SET schema_fingerprint = NULL")
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    validation = await migrator.validate_migrations()
    assert validation.is_valid
    assert validation.errors == []
    (warning,) = validation.warnings
    assert "drift cannot be checked" in warning


async def test_migrate_over_drift_warns_once_naming_the_migration_it_was_found_after(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await Migrator(any_db, chain("002")).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        assert result_ids(await Migrator(any_db, chain("002", "003")).migrate()) == ["003"]
    drift_lines = [r.getMessage() for r in caplog.records if "outside migrations" in r.getMessage()]
    assert len(drift_lines) == 1
    assert "002" in drift_lines[0]


async def test_fail_on_drift_refuses_before_any_change(any_db: Database) -> None:
    await Migrator(any_db, chain("002")).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    before = await schema(any_db)
    with pytest.raises(SchemaDriftError, match="changed outside migrations"):
        await Migrator(any_db, chain("002", "003")).migrate(fail_on_drift=True)
    assert await schema(any_db) == before
    assert await applied_ids(any_db) == ["001", "002"]
    await any_db.execute("DROP TABLE rogue")
    assert result_ids(await Migrator(any_db, chain("002", "003")).migrate(fail_on_drift=True)) == [
        "003"
    ]


async def test_validate_reports_errors_without_changing_anything(any_db: Database) -> None:
    assert await Migrator(any_db, chain("002")).validate_migrations() == agentsdb.ValidationResult(
        True, [], []
    )
    assert await schema(any_db) == []  # validating a new database creates nothing
    await Migrator(any_db, chain("002")).migrate()
    edited = Migration(id="002", description="x", up=["CREATE TABLE t002 (id INTEGER)"])
    validation = await Migrator(any_db, [EVENTS, edited]).validate_migrations()
    assert not validation.is_valid
    assert any("edited after it was applied" in error for error in validation.errors)
    await Migrator(any_db, [*chain("002"), table_migration("004")]).migrate()
    late = await Migrator(
        any_db, [*chain("002", "003"), table_migration("004")]
    ).validate_migrations()
    assert any("sort before the newest applied" in error for error in late.errors)


async def test_summary_reports_version_counts_and_pending_ids(any_db: Database) -> None:
    migrations = chain("002", "003")
    fresh = await Migrator(any_db, migrations).get_migration_summary()
    assert fresh == agentsdb.MigrationSummary(None, 3, 0, 3, ["001", "002", "003"])
    assert await schema(any_db) == []
    await Migrator(any_db, migrations).migrate(limit=2)
    partial = await Migrator(any_db, migrations).get_migration_summary()
    assert partial == agentsdb.MigrationSummary("002", 3, 2, 1, ["003"])
    await Migrator(any_db, migrations).migrate()
    done = await Migrator(any_db, migrations).get_migration_summary()
    assert (done.current_version, done.applied_migrations, done.pending_migration_ids) == (
        "003",
        3,
        [],
    )


async def test_each_applied_migration_logs_one_info_line_with_its_time(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentsdb.migrations")
    await Migrator(any_db, chain("002", "003")).migrate()
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "agentsdb.migrations" and record.levelno == logging.INFO
    ]
    assert len(lines) == 3
    for migration_id, line in zip(["001", "002", "003"], lines, strict=True):
        assert re.search(rf"\b{migration_id}\b.* \d+(\.\d+)? ms", line), line
    caplog.clear()
    await Migrator(any_db, chain("002", "003")).migrate()
    assert [r for r in caplog.records if r.name == "agentsdb.migrations"] == []


async def test_two_connections_racing_apply_each_migration_once(backend_url: str) -> None:
    ids = [f"{n:03d}" for n in range(2, 12)]
    async with (
        agentsdb.connect(backend_url) as first,
        agentsdb.connect(backend_url) as second,
    ):
        results = await asyncio.gather(
            Migrator(first, chain(*ids)).migrate(), Migrator(second, chain(*ids)).migrate()
        )
        applied = sorted(result_ids(results[0]) + result_ids(results[1]))
        assert applied == ["001", *ids]
        assert await event_counts(first) == dict.fromkeys(ids, 1)
        assert await applied_ids(first) == ["001", *ids]


async def test_chains_stay_right_when_a_run_mixes_transactional_and_bare_migrations(
    any_db: Database,
) -> None:
    migrations = [
        *chain("002"),
        table_migration("003", transactional=False),
        table_migration("004"),
    ]
    migrator = Migrator(any_db, migrations)
    assert result_ids(await migrator.migrate()) == ["001", "002", "003", "004"]
    rows = await tracking_rows(any_db)
    assert [row["chain"] for row in rows] == [
        chain_of(migrations[: n + 1], any_db.dialect) for n in range(4)
    ]
    assert await Migrator(any_db, migrations).migrate() == []
    assert (await Migrator(any_db, migrations).validate_migrations()).is_valid
