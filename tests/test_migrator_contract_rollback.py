"""The Migrator rolling back and repairing, on every backend: rollbacks, non-transactional
migrations left dirty, and repair."""

from __future__ import annotations

import os

import pytest
from migrator_support import (
    DIRTY_SET,
    EVENTS,
    ITEMS,
    SIDE_AND_ITEM,
    TRACKING,
    applied_ids,
    chain,
    event_counts,
    make_dirty,
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
    DirtyMigrationError,
    IrreversibleMigrationError,
    Migration,
    MigrationError,
    Migrator,
    RepairError,
)
from agentsdb.migrator.plan import chain_next, chain_of

#: 003 edited so that it completes over the item already there.
FINISH_ITEM = (
    "INSERT INTO items (name) SELECT 'dup' "
    "WHERE NOT EXISTS (SELECT 1 FROM items WHERE name = 'dup')"
)


async def test_rollback_last_runs_down_and_removes_the_row(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003"))
    await migrator.migrate()
    result = await migrator.rollback_last()
    assert result is not None
    assert (result.migration.id, result.direction, result.success) == ("003", "down", True)
    assert "t003" not in await names(any_db)
    assert "t002" in await names(any_db)
    assert await applied_ids(any_db) == ["001", "002"]
    assert await event_counts(any_db) == {"002": 1}
    assert result_ids(await migrator.migrate()) == ["003"]


async def test_rollback_last_with_nothing_applied_returns_none(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002"))
    assert await migrator.rollback_last() is None
    assert await schema(any_db) == []
    await migrator.initialize()
    assert await migrator.rollback_last() is None


async def test_failing_down_keeps_the_migration_applied(any_db: Database) -> None:
    broken_down = Migration(
        id="002",
        description="bad down",
        up=["CREATE TABLE kept (id INTEGER PRIMARY KEY)"],
        down=["DROP TABLE kept", "DROP TABLE no_such_table"],
    )
    migrator = Migrator(any_db, [EVENTS, broken_down])
    await migrator.migrate()
    with pytest.raises(MigrationError, match="rolling back migration 002") as caught:
        await migrator.rollback_last()
    assert caught.value.failed is not None
    assert caught.value.failed.direction == "down"
    assert "kept" in await names(any_db)  # the DROP that succeeded was rolled back with the rest
    assert await applied_ids(any_db) == ["001", "002"]


async def test_rollback_to_undoes_newer_migrations_newest_first(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003", "004"))
    await migrator.migrate()
    results = await migrator.rollback_to("002")
    assert result_ids(results) == ["004", "003"]
    assert all(r.direction == "down" and r.success for r in results)
    assert await applied_ids(any_db) == ["001", "002"]
    assert {"t003", "t004"}.isdisjoint(await names(any_db))


async def test_rollback_to_zero_undoes_everything(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003"))
    await migrator.migrate()
    assert result_ids(await migrator.rollback_to("0")) == ["003", "002", "001"]
    assert await applied_ids(any_db) == []
    assert await names(any_db) == {TRACKING}
    assert (await migrator.validate_migrations()).is_valid
    assert result_ids(await migrator.migrate()) == ["001", "002", "003"]


async def test_rollback_to_a_migration_that_is_not_applied_is_refused(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003"))
    await migrator.migrate(limit=2)
    with pytest.raises(ConfigurationError):
        await migrator.rollback_to("003")
    assert await applied_ids(any_db) == ["001", "002"]


async def test_irreversible_migration_is_detected_before_anything_is_rolled_back(
    any_db: Database,
) -> None:
    migrations = [EVENTS, table_migration("002", reversible=False), table_migration("003")]
    migrator = Migrator(any_db, migrations)
    await migrator.migrate()
    before = (await schema(any_db), await tracking_rows(any_db))
    with pytest.raises(IrreversibleMigrationError) as caught:
        await migrator.rollback_to("001")
    assert caught.value.migration_id == "002"
    assert (await schema(any_db), await tracking_rows(any_db)) == before  # 003 was not rolled back
    assert result_ids(await migrator.rollback_to("002")) == ["003"]
    with pytest.raises(IrreversibleMigrationError):
        await migrator.rollback_last()
    assert await applied_ids(any_db) == ["001", "002"]


async def test_rollback_of_an_edited_migration_is_refused(any_db: Database) -> None:
    await Migrator(any_db, chain("002")).migrate()
    original = table_migration("002")
    edited = Migration(
        id="002", description="x", up=[*original.up_statements(any_db.dialect), "SELECT 1"], down=[]
    )
    with pytest.raises(ChecksumMismatchError):
        await Migrator(any_db, [EVENTS, edited]).rollback_last()
    assert await applied_ids(any_db) == ["001", "002"]


async def test_failed_non_transactional_migration_is_left_dirty_and_blocks_migrate(
    any_db: Database,
) -> None:
    await make_dirty(any_db)
    assert "side" in await names(any_db)  # its first statement ran and stays
    rows = await tracking_rows(any_db)
    assert [(row["id"], row["success"]) for row in rows] == [("001", 1), ("002", 1), ("003", 0)]
    with pytest.raises(DirtyMigrationError, match="agentsdb repair 003") as caught:
        await Migrator(any_db, DIRTY_SET).migrate()
    assert caught.value.migration_id == "003"
    assert caught.value.applied_by is not None
    assert caught.value.applied_by.endswith(f":{os.getpid()}")
    assert "t004" not in await names(any_db)
    validation = await Migrator(any_db, DIRTY_SET).validate_migrations()
    assert not validation.is_valid
    assert any("dirty" in error for error in validation.errors)
    with pytest.raises(DirtyMigrationError):
        await Migrator(any_db, DIRTY_SET).rollback_last()


async def test_repair_mark_applied_lets_migrate_continue(any_db: Database) -> None:
    await make_dirty(any_db)
    # Its item is there (the cause of the failure): 003 is complete as far as it matters.
    migrator = Migrator(any_db, DIRTY_SET)
    await migrator.repair("003", mark_applied=True)
    assert result_ids(await migrator.migrate()) == ["004"]
    rows = await tracking_rows(any_db)
    assert [(row["id"], row["success"]) for row in rows][-2:] == [("003", 1), ("004", 1)]
    assert rows[-1]["chain"] == chain_of(migrator.migrations, any_db.dialect)
    assert await Migrator(any_db, DIRTY_SET).migrate() == []
    assert (await migrator.validate_migrations()).is_valid


async def test_repair_remove_lets_migrate_run_the_migration_again(any_db: Database) -> None:
    await make_dirty(any_db)
    await any_db.execute("DROP TABLE side")  # undo its partial effect by hand
    await any_db.execute("DELETE FROM items WHERE name = 'dup'")  # and fix the cause
    migrator = Migrator(any_db, DIRTY_SET)
    await migrator.repair("003", mark_applied=False)
    assert await applied_ids(any_db) == ["001", "002"]
    assert result_ids(await migrator.migrate()) == ["003", "004"]
    assert await Migrator(any_db, DIRTY_SET).migrate() == []
    assert (await migrator.validate_migrations()).is_valid


async def test_repair_refuses_when_there_is_nothing_to_repair(any_db: Database) -> None:
    migrator = Migrator(any_db, DIRTY_SET)
    with pytest.raises(RepairError, match="no migration tracking table"):
        await migrator.repair("003", mark_applied=True)
    await migrator.migrate(limit=2)
    with pytest.raises(RepairError, match="has no record"):
        await migrator.repair("003", mark_applied=True)
    with pytest.raises(RepairError, match="not dirty"):
        await migrator.repair("002", mark_applied=False)
    assert await applied_ids(any_db) == ["001", "002"]


async def test_dirty_migration_unknown_to_the_code_can_only_be_removed(any_db: Database) -> None:
    await make_dirty(any_db)
    without_003 = Migrator(any_db, [EVENTS, ITEMS])
    with pytest.raises(RepairError, match="not defined in this code"):
        await without_003.repair("003", mark_applied=True)
    assert [row["success"] for row in await tracking_rows(any_db)] == [1, 1, 0]
    await without_003.repair("003", mark_applied=False)
    assert await applied_ids(any_db) == ["001", "002"]


async def test_successful_non_transactional_migration_is_recorded_once(any_db: Database) -> None:
    migrations = [EVENTS, table_migration("002", transactional=False)]
    results = await Migrator(any_db, migrations).migrate()
    assert result_ids(results) == ["001", "002"]
    assert [(row["id"], row["success"]) for row in await tracking_rows(any_db)] == [
        ("001", 1),
        ("002", 1),
    ]
    assert await Migrator(any_db, migrations).migrate() == []


async def test_use_transaction_false_runs_outside_a_transaction_and_can_leave_dirty(
    any_db: Database,
) -> None:
    failing = Migration(
        id="002",
        description="half",
        up=["CREATE TABLE first_half (x INTEGER)", "INSERT INTO missing VALUES (1)"],
    )
    with pytest.raises(MigrationError):
        await Migrator(any_db, [EVENTS, failing]).migrate(use_transaction=False)
    assert "first_half" in await names(any_db)
    with pytest.raises(DirtyMigrationError):
        await Migrator(any_db, [EVENTS, failing]).migrate()


async def test_legitimate_rollbacks_are_not_reported_as_drift(any_db: Database) -> None:
    migrator = Migrator(any_db, chain("002", "003", "004"))
    await migrator.migrate()
    await migrator.rollback_last()
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await migrator.rollback_to("001")
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    assert not (await migrator.validate_migrations()).is_valid


async def test_repairing_an_edited_dirty_migration_keeps_chain_and_checksum_in_agreement(
    any_db: Database,
) -> None:
    # 003 failed half-way; the operator fixes its SQL (an edit), finishes it by hand and marks it
    # applied. The row's digest and its recorded checksum must describe the same migration, so
    # the one-query start and full validation agree about it.
    await make_dirty(any_db)
    fixed_003 = Migration(
        id="003",
        description=SIDE_AND_ITEM.description,
        up=["CREATE TABLE side (x INTEGER)", FINISH_ITEM],
        down=SIDE_AND_ITEM.down,
        transactional=False,
    )
    fixed = [EVENTS, ITEMS, fixed_003, DIRTY_SET[3]]
    migrator = Migrator(any_db, fixed)
    await migrator.repair("003", mark_applied=True)
    rows = await tracking_rows(any_db)
    previous, repaired = rows[-2], rows[-1]
    assert repaired["chain"] == chain_next(previous["chain"], "003", repaired["checksum"])


async def test_no_op_start_and_validation_agree_after_repairing_an_edited_migration(
    any_db: Database,
) -> None:
    await make_dirty(any_db)
    fixed_003 = Migration(
        id="003",
        description=SIDE_AND_ITEM.description,
        up=["CREATE TABLE side (x INTEGER)", FINISH_ITEM],
        down=SIDE_AND_ITEM.down,
        transactional=False,
    )
    fixed = [EVENTS, ITEMS, fixed_003]
    await Migrator(any_db, fixed).repair("003", mark_applied=True)
    assert (await Migrator(any_db, fixed).validate_migrations()).is_valid
    assert await Migrator(any_db, fixed).migrate() == []  # the one-query start agrees


async def test_rollback_to_a_migration_applied_out_of_order_says_why_and_changes_nothing(
    any_db: Database,
) -> None:
    await Migrator(any_db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    await Migrator(any_db, late).migrate(allow_out_of_order=True)
    assert await applied_ids(any_db) == ["001", "003", "002"]
    # Undoing 003 would undo 002 first, which was applied after it: refused, saying so (not
    # blaming another process).
    with pytest.raises(ConfigurationError, match="002 was applied after") as caught:
        await Migrator(any_db, late).rollback_to("002")
    assert "another process" not in str(caught.value)
    assert await applied_ids(any_db) == ["001", "003", "002"]
    assert result_ids(await Migrator(any_db, late).rollback_to("001")) == ["002", "003"]


async def test_dirty_rollback_error_does_not_say_mark_applied_means_it_completed(
    any_db: Database,
) -> None:
    # A non-transactional migration whose down fails part-way is left dirty. "--mark-applied (it
    # completed)" is the wrong advice for a rollback: if the down did complete, the migration is
    # no longer applied.
    bare = Migration(
        id="002",
        description="bare table",
        up=["CREATE TABLE bare (id INTEGER PRIMARY KEY)"],
        down=["DROP TABLE bare", "DELETE FROM no_such_table"],
        transactional=False,
    )
    migrations = [EVENTS, bare]
    await Migrator(any_db, migrations).migrate()
    with pytest.raises(MigrationError, match="recorded as dirty"):
        await Migrator(any_db, migrations).rollback_last()
    assert "bare" not in await names(any_db)  # the down's first statement ran
    with pytest.raises(DirtyMigrationError) as caught:
        await Migrator(any_db, migrations).migrate()
    message = str(caught.value)
    assert "roll" in message or "down" in message, message
