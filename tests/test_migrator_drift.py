"""Schema drift stays reported until it is accepted, on every backend (sqlite, postgresql, libsql
over ws and http): a migrate or a rollback over a schema changed outside migrations does not
make it the new baseline, ``fail_on_drift`` refuses whenever drift is present (even with nothing
pending), and only ``accept_drift()`` makes ``validate_migrations()`` say valid again."""

from __future__ import annotations

import logging

import pytest

from agentsdb import (
    Database,
    Migration,
    MigrationError,
    Migrator,
    RepairError,
    SchemaDriftError,
)

TRACKING = "agentsdb_migrations"


def table(migration_id: str) -> Migration:
    """Creates table t<id>; its down drops it."""
    name = f"t{migration_id}"
    return Migration(
        id=migration_id,
        description=f"create {name}",
        up=[f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT)"],
        down=[f"DROP TABLE {name}"],
    )


async def tracked_ids(db: Database) -> list[str]:
    rows = await db.fetch_all(f"SELECT id FROM {TRACKING} ORDER BY seq")
    return [str(row["id"]) for row in rows]


async def drift_errors(migrator: Migrator) -> list[str]:
    result = await migrator.validate_migrations()
    assert result.is_valid == (not result.errors)
    return [error for error in result.errors if "changed outside migrations" in error]


async def test_a_migrate_over_drift_keeps_it_reported_until_accepted(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    migrator = Migrator(any_db, [table("001"), table("002")])
    assert [r.migration.id for r in await migrator.migrate()] == ["002"]
    (error,) = await drift_errors(migrator)
    assert "after migration 001" in error
    assert "accept-drift" in error
    # Still reported by a later run that finds the live schema as recorded.
    later = Migrator(any_db, [table("001"), table("002"), table("003")])
    await later.migrate()
    assert len(await drift_errors(later)) == 1

    accepted = await later.accept_drift()
    assert accepted is not None
    assert "001" in accepted
    assert (await later.validate_migrations()).is_valid
    assert await later.accept_drift() is None


async def test_drift_after_acceptance_is_reported_again(any_db: Database) -> None:
    migrator = Migrator(any_db, [table("001")])
    await migrator.migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    await migrator.accept_drift()
    assert (await migrator.validate_migrations()).is_valid
    await any_db.execute("CREATE TABLE rogue_two (x INTEGER)")
    assert len(await drift_errors(migrator)) == 1


async def test_a_rollback_over_drift_keeps_it_reported_until_accepted(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    migrator = Migrator(any_db, [table("001"), table("002"), table("003")])
    await migrator.migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        await migrator.rollback_last()
    assert "changed outside migrations" in caplog.text
    assert len(await drift_errors(migrator)) == 1
    await migrator.rollback_to("001")
    assert await tracked_ids(any_db) == ["001"]
    assert len(await drift_errors(migrator)) == 1
    await migrator.migrate()
    assert len(await drift_errors(migrator)) == 1
    await migrator.accept_drift()
    assert (await migrator.validate_migrations()).is_valid


async def test_fail_on_drift_refuses_with_nothing_pending(any_db: Database) -> None:
    migrator = Migrator(any_db, [table("001")])
    await migrator.migrate()
    assert await migrator.migrate(fail_on_drift=True) == []
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    with pytest.raises(SchemaDriftError, match="changed outside migrations"):
        await migrator.migrate(fail_on_drift=True)
    await migrator.accept_drift()
    assert await migrator.migrate(fail_on_drift=True) == []


async def test_fail_on_drift_refuses_drift_an_earlier_run_kept(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    strict = Migrator(any_db, [table("001"), table("002"), table("003")])
    with pytest.raises(SchemaDriftError, match="after migration 001"):
        await strict.migrate(fail_on_drift=True)
    assert await tracked_ids(any_db) == ["001", "002"]


async def test_undoing_the_drift_by_hand_does_not_clear_a_kept_report(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    migrator = Migrator(any_db, [table("001"), table("002")])
    await migrator.migrate()
    await any_db.execute("DROP TABLE rogue")
    # The recorded baseline had the rogue table; the report stays until someone accepts.
    assert len(await drift_errors(migrator)) == 1
    await migrator.accept_drift()
    assert (await migrator.validate_migrations()).is_valid


async def test_accepting_drift_on_an_unmigrated_database_is_refused(any_db: Database) -> None:
    with pytest.raises(RepairError, match="nothing to accept"):
        await Migrator(any_db, [table("001")]).accept_drift()


async def test_a_repair_keeps_a_drift_report(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute("CREATE TABLE rogue (x INTEGER)")
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    failing = Migration(
        id="003",
        description="half done",
        up=["CREATE TABLE t003 (x INTEGER)", "INSERT INTO no_such_table VALUES (1)"],
        transactional=False,
    )
    migrator = Migrator(any_db, [table("001"), table("002"), failing])
    with pytest.raises(MigrationError):
        await migrator.migrate()
    await migrator.repair("003", mark_applied=True)
    assert await tracked_ids(any_db) == ["001", "002", "003"]
    (error,) = await drift_errors(migrator)
    assert "after migration 001" in error
