"""The sqld test fixtures are what they claim: a wipe leaves an empty database, and a restored
snapshot of a migrated database is that database (what ``migrated_any_db`` relies on)."""

from __future__ import annotations

import pytest
from sqld_server import SqldServer

import agentsdb

pytest.importorskip("libsql_client", reason="the libSQL tests need agentsdb[libsql]")


def contents(server: SqldServer) -> dict[str, list[tuple[object, ...]]]:
    """Every schema row and every row of every table, sqlite_sequence included."""
    schema = server.query("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
    found: dict[str, list[tuple[object, ...]]] = {"sqlite_schema": schema}
    for kind, name, _, _ in schema:
        if kind == "table":
            found[str(name)] = sorted(server.query(f'SELECT * FROM "{name}"'), key=repr)
    return found


async def test_wipe_leaves_no_table_view_trigger_index_or_counter(sqld: SqldServer) -> None:
    async with agentsdb.connect(sqld.http_url) as db:
        await db.execute_batch(
            [
                ("CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT)", None),
                (
                    "CREATE TABLE child (id INTEGER PRIMARY KEY,"
                    " parent_id INTEGER REFERENCES parent (id) ON DELETE RESTRICT)",
                    None,
                ),
                ("CREATE INDEX child_parent ON child (parent_id)", None),
                ("CREATE VIEW children AS SELECT * FROM child", None),
                (
                    "CREATE TRIGGER no_updates BEFORE UPDATE ON child "
                    "BEGIN SELECT RAISE(ABORT, 'no'); END",
                    None,
                ),
                ("INSERT INTO parent (id) VALUES (7)", None),
                ("INSERT INTO child (id, parent_id) VALUES (1, 7)", None),
            ]
        )

    sqld.wipe()

    assert sqld.query("SELECT type, name FROM sqlite_schema") == [("table", "sqlite_sequence")]
    assert sqld.query("SELECT * FROM sqlite_sequence") == []
    assert sqld.query("PRAGMA foreign_keys") == [(1,)]


async def test_a_restored_snapshot_of_a_migrated_database_is_that_database(
    sqld: SqldServer,
) -> None:
    async with agentsdb.connect(sqld.ws_url) as db:
        await agentsdb.Migrator(db).migrate()
        await db.execute(
            "INSERT INTO agents (id, name, model, created_at, updated_at) "
            "VALUES ('a1', 'n', 'm', 't', 't')"
        )
    migrated = contents(sqld)
    snapshot = sqld.snapshot()

    sqld.wipe()
    assert contents(sqld) != migrated
    sqld.restore(snapshot)

    assert contents(sqld) == migrated
    async with agentsdb.connect(sqld.http_url) as db:
        migrator = agentsdb.Migrator(db)
        validation = await migrator.validate_migrations()
        assert validation.is_valid, validation.errors
        assert validation.warnings == []
        assert await migrator.migrate() == []
        # The restored tables enforce their keys like the migrated ones.
        with pytest.raises(agentsdb.ForeignKeyViolationError):
            await db.execute(
                "INSERT INTO sessions (id, main_agent_id, created_at, updated_at) "
                "VALUES ('s1', 'nobody', 't', 't')"
            )
