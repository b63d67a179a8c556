"""The Migrator's tracking-table guarantees, on every backend (sqlite, postgresql, libsql over ws
and http): an applied migration's ``down`` is checksummed and a rollback refuses an edited one,
a tracking row deleted from the middle is refused alike by ``validate_migrations()`` and
``migrate()``, and a tracking table created before down checksums existed is upgraded in place."""

from __future__ import annotations

import asyncio
import logging

import pytest

import agentsdb
from agentsdb import (
    ChecksumMismatchError,
    Database,
    DownChecksumMismatchError,
    Migration,
    Migrator,
    MissingMigrationRecordError,
    RepairError,
)

TRACKING = "agentsdb_migrations"


def table(migration_id: str, *, down: list[str] | None = None) -> Migration:
    """Creates table t<id>; its down drops it (or runs ``down`` when given)."""
    name = f"t{migration_id}"
    return Migration(
        id=migration_id,
        description=f"create {name}",
        up=[f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT)"],
        down=down if down is not None else [f"DROP TABLE {name}"],
    )


def edited_down(migration_id: str) -> Migration:
    """The same ``up`` as :func:`table`, with another ``down``."""
    return table(migration_id, down=[f"DROP TABLE IF EXISTS t{migration_id}"])


async def has_table(db: Database, name: str) -> bool:
    try:
        await db.fetch_one(f"SELECT count(*) AS n FROM {name}")
    except Exception:
        return False
    return True


async def recorded_ids(db: Database) -> list[str]:
    rows = await db.fetch_all(f"SELECT id FROM {TRACKING} ORDER BY seq")
    return [str(row["id"]) for row in rows]


# --- the down checksum ---------------------------------------------------------------------------


async def test_applying_records_the_checksum_of_the_down(any_db: Database) -> None:
    migrations = [table("001"), table("002")]
    await Migrator(any_db, migrations).migrate()
    rows = await any_db.fetch_all(f"SELECT id, down_checksum FROM {TRACKING} ORDER BY seq")
    assert [row["down_checksum"] for row in rows] == [
        m.down_checksum(any_db.dialect) for m in migrations
    ]


async def test_rollback_last_refuses_a_down_edited_after_apply(any_db: Database) -> None:
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    edited = Migrator(any_db, [table("001"), edited_down("002")])
    with pytest.raises(DownChecksumMismatchError) as caught:
        await edited.rollback_last()
    assert caught.value.migration_id == "002"
    assert caught.value.expected == table("002").down_checksum(any_db.dialect)
    assert caught.value.actual == edited_down("002").down_checksum(any_db.dialect)
    assert "--accept-down" in str(caught.value)
    assert isinstance(caught.value, ChecksumMismatchError)
    assert await has_table(any_db, "t002")
    assert await recorded_ids(any_db) == ["001", "002"]


async def test_rollback_to_refuses_an_edited_down_before_undoing_anything(
    any_db: Database,
) -> None:
    await Migrator(any_db, [table("001"), table("002"), table("003")]).migrate()
    edited = Migrator(any_db, [table("001"), edited_down("002"), table("003")])
    with pytest.raises(DownChecksumMismatchError):
        await edited.rollback_to("0")
    assert await has_table(any_db, "t003")
    assert await recorded_ids(any_db) == ["001", "002", "003"]


async def test_validate_reports_an_edited_down_while_migrate_still_starts_at_once(
    any_db: Database,
) -> None:
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    edited = Migrator(any_db, [table("001"), edited_down("002")])
    result = await edited.validate_migrations()
    assert not result.is_valid
    assert result.errors == [
        str(
            DownChecksumMismatchError(
                "002",
                table("002").down_checksum(any_db.dialect) or "",
                edited_down("002").down_checksum(any_db.dialect),
            )
        )
    ]
    assert await edited.migrate() == []


async def test_an_accepted_down_is_the_one_the_rollback_runs(any_db: Database) -> None:
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    edited = Migrator(any_db, [table("001"), edited_down("002")])
    await edited.accept_down("002")
    assert (await edited.validate_migrations()).is_valid
    result = await edited.rollback_last()
    assert result is not None
    assert result.success
    assert not await has_table(any_db, "t002")


async def test_accepting_the_down_of_a_migration_not_applied_is_refused(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    with pytest.raises(RepairError, match="not recorded as applied"):
        await Migrator(any_db, [table("001"), table("002")]).accept_down("002")


async def test_a_row_without_a_down_checksum_rolls_back_with_a_warning(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    migrator = Migrator(any_db, [table("001"), table("002")])
    await migrator.migrate()
    await any_db.execute(f"UPDATE {TRACKING} SET down_checksum = NULL WHERE id = '002'")
    result = await migrator.validate_migrations()
    assert result.is_valid
    assert any("no down checksum was recorded" in w and "002" in w for w in result.warnings)
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        await migrator.rollback_last()
    assert "unverified down" in caplog.text
    assert not await has_table(any_db, "t002")


# --- an old tracking table -----------------------------------------------------------------------


async def test_an_old_tracking_table_is_upgraded_in_place_by_the_next_migrate(
    any_db: Database,
) -> None:
    await Migrator(any_db, [table("001"), table("002")]).migrate()
    # The shape an older version created: no down_checksum column.
    await any_db.execute(f"ALTER TABLE {TRACKING} DROP COLUMN down_checksum")
    newer = Migrator(any_db, [table("001"), table("002"), table("003")])
    assert (await newer.validate_migrations()).errors == []  # reads change nothing
    assert [r.id for r in await newer.get_applied()] == ["001", "002"]
    assert [r.migration.id for r in await newer.migrate()] == ["003"]
    rows = await any_db.fetch_all(f"SELECT id, down_checksum FROM {TRACKING} ORDER BY seq")
    # The rows recorded before the upgrade take the down the code had at the upgrade.
    assert [row["down_checksum"] for row in rows] == [
        table(i).down_checksum(any_db.dialect) for i in ("001", "002", "003")
    ]
    with pytest.raises(DownChecksumMismatchError):
        await Migrator(any_db, [table("001"), table("002"), edited_down("003")]).rollback_last()


async def test_repair_upgrades_an_old_tracking_table_before_recording_a_row(
    any_db: Database,
) -> None:
    migrations = [table("001"), table("002"), table("003")]
    await Migrator(any_db, migrations).migrate()
    await any_db.execute(f"ALTER TABLE {TRACKING} DROP COLUMN down_checksum")
    await any_db.execute(f"DELETE FROM {TRACKING} WHERE id = '002'")
    migrator = Migrator(any_db, migrations)
    await migrator.repair("002", mark_applied=True)
    assert await migrator.migrate() == []
    assert [r.down_checksum for r in await migrator.get_applied()] == [
        table(i).down_checksum(any_db.dialect) for i in ("001", "003", "002")
    ]


async def test_initialize_upgrades_an_old_tracking_table(any_db: Database) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute(f"ALTER TABLE {TRACKING} DROP COLUMN down_checksum")
    migrator = Migrator(any_db, [table("001"), table("002")])
    await migrator.initialize()
    assert [r.migration.id for r in await migrator.migrate()] == ["002"]
    assert [r.down_checksum for r in await migrator.get_applied()] == [
        table(i).down_checksum(any_db.dialect) for i in ("001", "002")
    ]


async def test_a_no_op_start_on_an_old_tracking_table_upgrades_it(any_db: Database) -> None:
    migrations = [table("001")]
    await Migrator(any_db, migrations).migrate()
    await any_db.execute(f"ALTER TABLE {TRACKING} DROP COLUMN down_checksum")
    assert await Migrator(any_db, migrations).migrate() == []
    row = await any_db.fetch_one(f"SELECT down_checksum FROM {TRACKING}")
    assert row is not None
    assert row["down_checksum"] == migrations[0].down_checksum(any_db.dialect)


# --- rows deleted from the middle ----------------------------------------------------------------


async def test_a_row_deleted_from_the_middle_is_refused_by_validate_and_migrate_alike(
    any_db: Database,
) -> None:
    migrations = [table("001"), table("002"), table("003")]
    await Migrator(any_db, migrations).migrate()
    await any_db.execute(f"DELETE FROM {TRACKING} WHERE id = '002'")
    migrator = Migrator(any_db, migrations)
    result = await migrator.validate_migrations()
    with pytest.raises(MissingMigrationRecordError) as caught:
        await migrator.migrate()
    assert caught.value.migration_ids == ["002"]
    assert (caught.value.after, caught.value.before) == ("001", "003")
    assert result.errors == [str(caught.value)]
    assert "agentsdb repair 002 --mark-applied" in str(caught.value)
    with pytest.raises(MissingMigrationRecordError):
        await migrator.migrate(allow_out_of_order=True)
    with pytest.raises(MissingMigrationRecordError):
        await migrator.rollback_last()
    assert await recorded_ids(any_db) == ["001", "003"]


async def test_a_deleted_first_row_is_named_too(any_db: Database) -> None:
    migrations = [table("001"), table("002")]
    await Migrator(any_db, migrations).migrate()
    await any_db.execute(f"DELETE FROM {TRACKING} WHERE id = '001'")
    with pytest.raises(MissingMigrationRecordError) as caught:
        await Migrator(any_db, migrations).migrate()
    assert (caught.value.migration_ids, caught.value.after) == (["001"], None)


async def test_repair_records_deleted_rows_again_one_at_a_time(any_db: Database) -> None:
    migrations = [table(f"{n:03d}") for n in range(1, 6)]
    await Migrator(any_db, migrations).migrate()
    await any_db.execute(f"DELETE FROM {TRACKING} WHERE id IN ('002', '003')")
    migrator = Migrator(any_db, migrations)
    with pytest.raises(MissingMigrationRecordError) as caught:
        await migrator.migrate()
    assert caught.value.migration_ids == ["002", "003"]
    await migrator.repair("002", mark_applied=True)
    with pytest.raises(MissingMigrationRecordError) as still:
        await migrator.migrate()
    assert still.value.migration_ids == ["003"]
    await migrator.repair("003", mark_applied=True)
    assert await migrator.migrate() == []
    assert (await migrator.validate_migrations()).is_valid
    assert await recorded_ids(any_db) == ["001", "004", "005", "002", "003"]
    undone = await migrator.rollback_to("0")
    assert [r.migration.id for r in undone] == ["003", "002", "005", "004", "001"]
    assert await recorded_ids(any_db) == []


async def test_racing_upgrades_of_an_old_tracking_table_both_succeed(
    any_db: Database, backend_url: str
) -> None:
    await Migrator(any_db, [table("001")]).migrate()
    await any_db.execute(f"ALTER TABLE {TRACKING} DROP COLUMN down_checksum")
    migrations = [table("001"), table("002")]
    async with agentsdb.connect(backend_url) as other:
        ran = await asyncio.gather(
            Migrator(any_db, migrations).migrate(), Migrator(other, migrations).migrate()
        )
    assert sorted(len(results) for results in ran) == [0, 1]
    assert await recorded_ids(any_db) == ["001", "002"]
    assert (await Migrator(any_db, migrations).validate_migrations()).is_valid
