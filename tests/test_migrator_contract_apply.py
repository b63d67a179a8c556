"""The Migrator applying migrations, on every backend (sqlite, postgresql, libsql over ws and
http): atomic apply, validation before any change, dry run, rehearsal, limit and target."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from migrator_support import (
    EVENTS,
    TRACKING,
    applied_ids,
    chain,
    columns,
    event_counts,
    names,
    result_ids,
    schema,
    table_migration,
    tracking_rows,
)

import agentsdb
from agentsdb import (
    ChecksumMismatchError,
    ConfigurationError,
    Database,
    DatabaseError,
    DirtyMigrationError,
    Migration,
    MigrationError,
    MigrationOrderError,
    Migrator,
    UniqueViolationError,
    UnknownMigrationError,
)
from agentsdb.migrator.plan import chain_of


async def test_builtin_migrations_apply_in_order_and_are_recorded(any_db: Database) -> None:
    migrator = Migrator(any_db)
    results = await migrator.migrate()
    assert result_ids(results) == [m.id for m in migrator.migrations]
    assert result_ids(results)[:2] == ["001", "002"]
    assert all(r.success and r.direction == "up" and not r.dry_run for r in results)
    assert all(r.execution_time_ms >= 0 and r.error is None for r in results)
    assert {"agents", "sessions", "session_logs", TRACKING} <= await names(any_db)
    rows = await tracking_rows(any_db)
    assert [row["id"] for row in rows] == result_ids(results)
    for position, (row, migration) in enumerate(zip(rows, migrator.migrations, strict=True)):
        assert row["checksum"] == migration.checksum(any_db.dialect)
        assert re.fullmatch(r"sha256-v1:[0-9a-f]{64}", row["checksum"])
        assert row["chain"] == chain_of(migrator.migrations[: position + 1], any_db.dialect)
        assert row["success"] == 1
        assert row["applied_at"]
        assert row["started_at"]
        assert row["execution_time_ms"] is not None
        assert row["description"] == migration.description
    assert rows[-1]["schema_fingerprint"]


async def test_second_migrate_applies_nothing(any_db: Database) -> None:
    assert len(await Migrator(any_db, chain("002", "003")).migrate()) == 3
    assert await Migrator(any_db, chain("002", "003")).migrate() == []
    assert await event_counts(any_db) == {"002": 1, "003": 1}


async def test_initialize_is_idempotent_and_creates_the_tracking_columns(any_db: Database) -> None:
    migrator = Migrator(any_db, [])
    await migrator.initialize()
    await migrator.initialize()
    assert {
        "id",
        "description",
        "checksum",
        "applied_at",
        "execution_time_ms",
        "success",
    } <= set(await columns(any_db, TRACKING))
    assert await tracking_rows(any_db) == []


async def test_custom_tracking_table_name_is_used(any_db: Database) -> None:
    await Migrator(any_db, chain("002"), table="schema_history").migrate()
    assert "schema_history" in await names(any_db)
    assert TRACKING not in await names(any_db)
    with pytest.raises(ConfigurationError, match="plain identifier"):
        Migrator(any_db, [], table="x; DROP TABLE events")


async def test_failing_migration_rolls_back_its_ddl_and_is_not_recorded(any_db: Database) -> None:
    broken = Migration(
        id="003",
        description="broken",
        up=[
            "CREATE TABLE half (id INTEGER PRIMARY KEY)",
            "CREATE INDEX half_id ON half (id)",
            "INSERT INTO events (migration) VALUES ('003')",
            "INSERT INTO no_such_table VALUES (1)",
        ],
    )
    migrations = [*chain("002"), broken, table_migration("004")]
    with pytest.raises(
        MigrationError, match=r"migration 003 .* failed and was rolled back"
    ) as caught:
        await Migrator(any_db, migrations).migrate()
    error = caught.value
    assert result_ids(error.results) == ["001", "002", "003"]
    assert [r.success for r in error.results] == [True, True, False]
    assert error.failed is error.results[-1]
    assert error.failed.error is not None
    assert "no_such_table" in error.failed.error
    assert isinstance(error.__cause__, DatabaseError)
    tables = await names(any_db)
    assert "half" not in tables
    assert "half_id" not in await names(any_db, "index")
    assert "t004" not in tables  # later migrations are not attempted
    assert await applied_ids(any_db) == ["001", "002"]
    assert await event_counts(any_db) == {"002": 1}


async def test_rerun_after_fixing_the_cause_applies_each_migration_once(any_db: Database) -> None:
    items = Migration(
        id="002",
        description="items",
        up=["CREATE TABLE items (name TEXT NOT NULL UNIQUE)"],
    )
    seed = Migration(
        id="003",
        description="seed items",
        up=[
            "INSERT INTO events (migration) VALUES ('003')",
            "INSERT INTO items (name) VALUES ('default')",
        ],
    )
    migrations = [EVENTS, items, seed, table_migration("004")]
    await Migrator(any_db, migrations).migrate(limit=2)
    await any_db.execute("INSERT INTO items (name) VALUES ('default')")  # the cause of the failure

    with pytest.raises(MigrationError) as caught:
        await Migrator(any_db, migrations).migrate()
    assert isinstance(caught.value.__cause__, UniqueViolationError)
    assert await applied_ids(any_db) == ["001", "002"]

    await any_db.execute("DELETE FROM items WHERE name = 'default'")
    results = await Migrator(any_db, migrations).migrate()
    assert result_ids(results) == ["003", "004"]
    assert await Migrator(any_db, migrations).migrate() == []
    assert await applied_ids(any_db) == ["001", "002", "003", "004"]
    assert await event_counts(any_db) == {"003": 1, "004": 1}


async def test_one_migrator_rerun_after_a_failure_applies_each_once(any_db: Database) -> None:
    await any_db.execute("CREATE TABLE blocker (x INTEGER)")
    clash = Migration(id="003", description="clash", up=["CREATE TABLE blocker (y INTEGER)"])
    migrator = Migrator(any_db, [*chain("002"), clash])
    with pytest.raises(MigrationError):
        await migrator.migrate()
    await any_db.execute("DROP TABLE blocker")
    assert result_ids(await migrator.migrate()) == ["003"]
    assert await migrator.migrate() == []
    assert await applied_ids(any_db) == ["001", "002", "003"]


async def test_edited_applied_migration_is_refused_before_any_change(any_db: Database) -> None:
    await Migrator(any_db, chain("002")).migrate()
    before = await schema(any_db)
    original = table_migration("002")
    edited = Migration(
        id="002",
        description=original.description,
        up=[
            *original.up_statements(any_db.dialect)[:2],
            "INSERT INTO events (migration) VALUES ('x')",
        ],
    )
    with pytest.raises(ChecksumMismatchError) as caught:
        await Migrator(any_db, [EVENTS, edited, table_migration("003")]).migrate()
    error = caught.value
    assert error.migration_id == "002"
    assert error.expected == original.checksum(any_db.dialect)
    assert error.actual == edited.checksum(any_db.dialect)
    assert await schema(any_db) == before
    assert await applied_ids(any_db) == ["001", "002"]


async def test_tampered_checksum_in_the_database_is_refused(any_db: Database) -> None:
    await Migrator(any_db, chain("002")).migrate()
    forged = "sha256-v1:" + "0" * 64
    await any_db.execute(f"UPDATE {TRACKING} SET checksum = :c WHERE id = '001'", {"c": forged})
    with pytest.raises(ChecksumMismatchError) as caught:
        await Migrator(any_db, chain("002", "003")).migrate()
    assert (caught.value.migration_id, caught.value.expected) == ("001", forged)
    assert caught.value.actual == EVENTS.checksum(any_db.dialect)
    assert "t003" not in await names(any_db)
    assert await Migrator(any_db, chain("002", "003")).migrate(validate_checksums=False) != []
    assert "t003" in await names(any_db)


async def test_line_ending_and_trailing_whitespace_edit_is_accepted(any_db: Database) -> None:
    multi_line = Migration(
        id="002",
        description="multi-line",
        up=["CREATE TABLE notes (\n    id INTEGER PRIMARY KEY,\n    body TEXT\n)"],
    )
    await Migrator(any_db, [EVENTS, multi_line]).migrate()
    checked_out_on_windows = Migration(
        id="002",
        description="multi-line",
        up=["CREATE TABLE notes (  \r\n    id INTEGER PRIMARY KEY,\t\r\n    body TEXT\r\n)"],
    )
    results = await Migrator(
        any_db, [EVENTS, checked_out_on_windows, table_migration("003")]
    ).migrate()
    assert result_ids(results) == ["003"]
    windows_set = [EVENTS, checked_out_on_windows, table_migration("003")]
    assert (await Migrator(any_db, windows_set).validate_migrations()).is_valid
    assert await Migrator(any_db, windows_set).migrate() == []


async def test_applied_migration_unknown_to_the_code_is_refused(any_db: Database) -> None:
    await Migrator(any_db, chain("002", "003")).migrate()
    with pytest.raises(UnknownMigrationError) as caught:
        await Migrator(any_db, [*chain("002"), table_migration("004")]).migrate()
    assert caught.value.migration_ids == ["003"]
    assert "t004" not in await names(any_db)
    assert await applied_ids(any_db) == ["001", "002", "003"]


async def test_pending_migration_older_than_the_newest_applied_is_refused(any_db: Database) -> None:
    await Migrator(any_db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    with pytest.raises(MigrationOrderError) as caught:
        await Migrator(any_db, late).migrate()
    assert (caught.value.pending_ids, caught.value.newest_applied) == (["002"], "003")
    assert "t002" not in await names(any_db)


async def test_allow_out_of_order_applies_the_late_migration_with_a_warning(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await Migrator(any_db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        results = await Migrator(any_db, late).migrate(allow_out_of_order=True)
    assert result_ids(results) == ["002"]
    assert any("out of order" in record.getMessage() for record in caplog.records)
    assert await applied_ids(any_db) == ["001", "003", "002"]
    assert await Migrator(any_db, late).migrate() == []
    assert (await Migrator(any_db, late).validate_migrations()).is_valid


async def test_dry_run_changes_nothing_not_even_the_tracking_table(
    any_db: Database,
) -> None:
    results = await Migrator(any_db, chain("002", "003")).migrate(dry_run=True)
    assert result_ids(results) == ["001", "002", "003"]
    assert all(r.dry_run and r.success for r in results)
    assert await schema(any_db) == []


async def test_dry_run_reports_only_what_is_pending_within_limit_and_target(
    any_db: Database,
) -> None:
    migrations = chain("002", "003", "004", "005")
    await Migrator(any_db, migrations).migrate(limit=2)
    before = (await schema(any_db), await tracking_rows(any_db))
    assert result_ids(await Migrator(any_db, migrations).migrate(dry_run=True)) == [
        "003",
        "004",
        "005",
    ]
    assert result_ids(await Migrator(any_db, migrations).migrate(dry_run=True, limit=1)) == ["003"]
    assert result_ids(await Migrator(any_db, migrations).migrate(dry_run=True, target="004")) == [
        "003",
        "004",
    ]
    assert (await schema(any_db), await tracking_rows(any_db)) == before


async def test_rehearse_on_a_new_database_leaves_only_the_empty_tracking_table(
    any_db: Database,
) -> None:
    results = await Migrator(any_db, chain("002", "003")).migrate(rehearse=True)
    assert result_ids(results) == ["001", "002", "003"]
    assert all(r.dry_run and r.success for r in results)
    assert await names(any_db) <= {TRACKING}
    assert await names(any_db, "index") <= {f"{TRACKING}_dirty"}
    assert await tracking_rows(any_db) == []


async def test_rehearse_leaves_schema_and_tracking_rows_unchanged(any_db: Database) -> None:
    migrations = chain("002", "003", "004")
    await Migrator(any_db, migrations).migrate(limit=2)
    before = (await schema(any_db), await tracking_rows(any_db), await event_counts(any_db))
    results = await Migrator(any_db, migrations).migrate(rehearse=True)
    assert result_ids(results) == ["003", "004"]
    assert all(r.dry_run for r in results)
    assert (await schema(any_db), await tracking_rows(any_db), await event_counts(any_db)) == before
    assert result_ids(await Migrator(any_db, migrations).migrate()) == ["003", "004"]


async def test_rehearse_reports_a_failing_statement_and_changes_nothing(any_db: Database) -> None:
    bad = Migration(id="004", description="typo", up=["CREAT TABLE oops (x)"])
    migrations = [*chain("002", "003"), bad]
    await Migrator(any_db, migrations).migrate(limit=2)
    before = (await schema(any_db), await tracking_rows(any_db))
    with pytest.raises(MigrationError, match="rehearsal of migration 004") as caught:
        await Migrator(any_db, migrations).migrate(rehearse=True)
    assert result_ids(caught.value.results) == ["003", "004"]
    assert [r.success for r in caught.value.results] == [True, False]
    assert all(r.dry_run for r in caught.value.results)
    assert caught.value.failed is not None
    assert "CREAT" in (caught.value.failed.error or "")
    assert (await schema(any_db), await tracking_rows(any_db)) == before


async def test_dry_run_and_rehearse_together_is_a_configuration_error(any_db: Database) -> None:
    with pytest.raises(ConfigurationError):
        await Migrator(any_db, chain("002")).migrate(dry_run=True, rehearse=True)


async def test_limit_applies_at_most_n_and_target_up_to_and_including_it(any_db: Database) -> None:
    migrations = chain("002", "003", "004", "005")
    assert result_ids(await Migrator(any_db, migrations).migrate(limit=1)) == ["001"]
    assert result_ids(await Migrator(any_db, migrations).migrate(target="003")) == ["002", "003"]
    assert result_ids(await Migrator(any_db, migrations).migrate(target="003")) == []
    assert result_ids(await Migrator(any_db, migrations).migrate(limit=0)) == []
    assert result_ids(await Migrator(any_db, migrations).migrate(limit=5, target="004")) == ["004"]
    assert result_ids(await Migrator(any_db, migrations).migrate()) == ["005"]


@pytest.mark.parametrize(("option", "value"), [("limit", -1), ("limit", "2"), ("target", "009")])
async def test_bad_limit_or_unknown_target_fails_before_any_change(
    any_db: Database, option: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError):
        await Migrator(any_db, chain("002")).migrate(**{option: value})
    assert await schema(any_db) == []


# --- the same situation, the same answer ---------------------------------------------------------


async def test_a_dirty_row_met_mid_run_raises_dirty_migration_error(any_db: Database) -> None:
    # 002 leaves a dirty row for 003, as another process crashing in 003 would: the run must
    # stop at 003 with DirtyMigrationError (not a unique violation), 002 staying committed.
    plants_dirty_003 = Migration(
        id="002",
        description="plants a dirty row",
        up=[
            f"INSERT INTO {TRACKING} (id, description, checksum, started_at, success, "
            "applied_by) VALUES ('003', 'create t003', 'sha256-v1:x', 'then', 0, 'elsewhere:1')"
        ],
    )
    migrations = [EVENTS, plants_dirty_003, table_migration("003")]
    with pytest.raises(DirtyMigrationError) as caught:
        await Migrator(any_db, migrations).migrate()
    assert caught.value.migration_id == "003"
    assert caught.value.applied_by == "elsewhere:1"
    assert any("applied and committed 001, 002" in note for note in caught.value.__notes__)
    assert sorted((r["id"], r["success"]) for r in await tracking_rows(any_db)) == [
        ("001", 1),
        ("002", 1),
        ("003", 0),
    ]
    assert "t003" not in await names(any_db)


async def test_each_result_says_what_became_of_its_migration(any_db: Database) -> None:
    outcome = agentsdb.MigrationOutcome
    bare = table_migration("004", transactional=False)
    migrations = [*chain("002", "003"), bare]
    planned = await Migrator(any_db, migrations).migrate(dry_run=True)
    assert [r.outcome for r in planned] == [outcome.PLANNED] * 4
    rehearsed = await Migrator(any_db, migrations).migrate(rehearse=True)
    assert [r.outcome for r in rehearsed] == [outcome.REHEARSED] * 3 + [outcome.NOT_REHEARSED]
    applied = await Migrator(any_db, migrations).migrate()
    assert [r.outcome for r in applied] == [outcome.APPLIED] * 4
    assert all(r.execution_time_ms >= 0 for r in applied)
    undone = await Migrator(any_db, migrations).rollback_to("002")
    assert [r.outcome for r in undone] == [outcome.ROLLED_BACK] * 2
    broken = Migration(id="003", description="broken", up=["INSERT INTO no_such_table VALUES (1)"])
    with pytest.raises(MigrationError) as failed:
        await Migrator(any_db, [*chain("002"), broken]).migrate()
    assert [r.outcome for r in failed.value.results] == [outcome.FAILED]
    half = Migration(
        id="003",
        description="half",
        up=["CREATE TABLE half (x INTEGER)", "INSERT INTO no_such_table VALUES (1)"],
        transactional=False,
    )
    with pytest.raises(MigrationError) as dirty:
        await Migrator(any_db, [*chain("002"), half]).migrate()
    assert [r.outcome for r in dirty.value.results] == [outcome.LEFT_DIRTY]
