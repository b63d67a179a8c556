"""Table rebuilds with foreign keys off (``foreign_keys=False``), on the backends whose dialect
rebuilds tables that way (SQLite, libSQL over ws and http)."""

from __future__ import annotations

import pytest
from migrator_support import (
    FAMILY,
    applied_ids,
    foreign_keys_on,
    rebuild_parent,
    result_ids,
    schema,
    seed_family,
    tracking_rows,
)

from agentsdb import (
    Database,
    ForeignKeyViolationError,
    Migration,
    MigrationError,
    Migrator,
)

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", "libsql-ws", "libsql-http"], indirect=True
)


async def test_foreign_keys_off_rebuild_keeps_dependent_rows_and_turns_keys_back_on(
    any_db: Database,
) -> None:
    await seed_family(any_db)
    await Migrator(any_db, [FAMILY, rebuild_parent()]).migrate()
    columns = [row["name"] for row in await any_db.fetch_all("PRAGMA table_info(parent)")]
    assert columns == ["id", "name", "rank"]
    # With foreign keys on, DROP TABLE parent would have cascaded into child.
    assert [row["parent_id"] for row in await any_db.fetch_all("SELECT parent_id FROM child")] == [
        1,
        2,
        2,
    ]
    assert await foreign_keys_on(any_db)
    with pytest.raises(ForeignKeyViolationError):
        await any_db.execute("INSERT INTO child (parent_id) VALUES (99)")
    await any_db.execute("DELETE FROM parent WHERE id = 2")
    assert await any_db.fetch_all("SELECT parent_id FROM child") == [{"parent_id": 1}]


async def test_use_transaction_false_still_rebuilds_with_foreign_keys_off(any_db: Database) -> None:
    await seed_family(any_db)
    await Migrator(any_db, [FAMILY, rebuild_parent()]).migrate(use_transaction=False)
    assert len(await any_db.fetch_all("SELECT parent_id FROM child")) == 3
    assert await foreign_keys_on(any_db)
    assert [(row["id"], row["success"]) for row in await tracking_rows(any_db)] == [
        ("001", 1),
        ("002", 1),
    ]


async def test_rebuild_leaving_a_foreign_key_violation_fails_and_is_rolled_back(
    any_db: Database,
) -> None:
    await seed_family(any_db)
    before = await schema(any_db)
    with pytest.raises(MigrationError, match="foreign key violation") as caught:
        await Migrator(any_db, [FAMILY, rebuild_parent(keep="id <> 2")]).migrate()
    assert isinstance(caught.value.__cause__, ForeignKeyViolationError)
    message = str(caught.value)
    assert "migration 002 leaves" in message
    assert await schema(any_db) == before
    assert await any_db.fetch_one("SELECT count(*) AS n FROM parent") == {"n": 2}
    assert await applied_ids(any_db) == ["001"]
    assert await foreign_keys_on(any_db)
    with pytest.raises(ForeignKeyViolationError):
        await any_db.execute("INSERT INTO child (parent_id) VALUES (99)")


async def test_rehearsing_a_rebuild_checks_foreign_keys_and_changes_nothing(
    any_db: Database,
) -> None:
    await seed_family(any_db)
    before = await schema(any_db)
    assert result_ids(
        await Migrator(any_db, [FAMILY, rebuild_parent()]).migrate(rehearse=True)
    ) == ["002"]
    with pytest.raises(MigrationError, match="foreign key violation"):
        await Migrator(any_db, [FAMILY, rebuild_parent(keep="id <> 2")]).migrate(rehearse=True)
    assert await schema(any_db) == before
    assert await foreign_keys_on(any_db)


PARENTS = Migration(
    id="001",
    description="parents and children",
    up=[
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT)",
        "INSERT INTO parent (id) VALUES (1), (2)",
        "INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2)",
    ],
)


REBUILD_OTHER = Migration(
    id="002",
    description="rebuild other",
    up=[
        "CREATE TABLE other_new (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT '')",
        "INSERT INTO other_new (id, v) SELECT id, COALESCE(v, '') FROM other",
        "DROP TABLE other",
        "ALTER TABLE other_new RENAME TO other",
    ],
    foreign_keys=False,
)


DELETE_PARENT = Migration(
    id="003",
    description="drop parent 1 and, by cascade, its children",
    up=["DELETE FROM parent WHERE id = 1"],
)


async def test_rehearsal_agrees_with_migrate_when_a_later_migration_relies_on_cascades(
    any_db: Database,
) -> None:
    migrations = [PARENTS, REBUILD_OTHER, DELETE_PARENT]
    await Migrator(any_db, migrations).migrate(limit=1)
    # The real run succeeds: 003's DELETE cascades to child 10 with foreign keys on.
    rehearsal = await Migrator(any_db, migrations).migrate(rehearse=True)
    assert [result.success for result in rehearsal] == [True, True]


async def test_the_cascade_scenario_really_migrates(any_db: Database) -> None:
    # Control for the rehearsal test above: the same migrations apply cleanly for real.
    migrations = [PARENTS, REBUILD_OTHER, DELETE_PARENT]
    await Migrator(any_db, migrations).migrate(limit=1)
    assert [r.migration.id for r in await Migrator(any_db, migrations).migrate()] == ["002", "003"]
    assert await any_db.fetch_all("SELECT id FROM child") == [{"id": 20}]
