"""What a rollback would delete: the down statements read without a database, then counted on
every backend (the same statements, the same counts)."""

from __future__ import annotations

from agentsdb import Migration, Migrator
from agentsdb.db.base import Database
from agentsdb.migrator.rollback_preview import find_losses, preview_rollback


def kinds(statements: list[str]) -> list[tuple[str, str, str | None]]:
    losses, _ = find_losses(statements)
    return [(loss.kind, loss.table, loss.column) for loss in losses]


def test_drop_table_loses_every_row_of_the_table() -> None:
    assert kinds(["DROP TABLE IF EXISTS main.notes;", 'drop table "Odd Name"']) == [
        ("table", "main.notes", None),
        ("table", '"Odd Name"', None),
    ]


def test_dropped_columns_are_counted_one_by_one_but_not_dropped_constraints() -> None:
    statement = (
        "ALTER TABLE agents DROP COLUMN handle, DROP CONSTRAINT agents_x, DROP status, "
        "ALTER COLUMN name DROP NOT NULL, ALTER COLUMN model DROP DEFAULT"
    )
    assert kinds([statement]) == [("column", "agents", "handle"), ("column", "agents", "status")]


def test_a_table_copied_before_it_is_dropped_is_a_rebuild() -> None:
    statements = [
        "CREATE TABLE t_new (id INTEGER PRIMARY KEY)",
        "INSERT INTO t_new (id) SELECT id FROM t",
        "DROP TABLE t",
        "ALTER TABLE t_new RENAME TO t",
    ]
    assert kinds(statements) == [("rebuild", "t", None)]


def test_delete_and_truncate_are_counted_with_their_own_condition() -> None:
    losses, _ = find_losses(["DELETE FROM notes WHERE kind = 'draft'", "TRUNCATE TABLE logs"])
    assert [loss.count_sql for loss in losses] == [
        "SELECT COUNT(*) AS n FROM notes WHERE kind = 'draft'",
        "SELECT COUNT(*) AS n FROM logs",
    ]


def test_what_cannot_be_counted_is_listed_not_guessed() -> None:
    statements = [
        "UPDATE notes SET body = NULL",
        "DELETE FROM notes RETURNING id",
        "WITH old AS (SELECT 1) DELETE FROM notes",
        "TRUNCATE a, b",
        "DROP INDEX notes_kind",
        "CREATE TABLE x (a)",
    ]
    losses, uncounted = find_losses(statements)
    assert losses == []
    assert uncounted == statements[:4]


def test_a_column_added_earlier_in_the_rollback_is_counted_empty() -> None:
    added: set[tuple[str, str]] = set()
    find_losses(["ALTER TABLE messages ADD COLUMN persona_id TEXT"], added)
    losses, _ = find_losses(["ALTER TABLE Messages DROP COLUMN persona_id"], added)
    assert [(loss.rows, loss.count_sql) for loss in losses] == [(0, None)]


def test_comments_do_not_hide_or_invent_statements() -> None:
    assert kinds(["-- DROP TABLE keep\n/* DROP TABLE keep */ DROP TABLE gone"]) == [
        ("table", "gone", None)
    ]


# --- counted on every backend ---------------------------------------------------------------------

NOTES = Migration(
    id="001",
    description="notes",
    up=["CREATE TABLE notes (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT)"],
    down=["DROP TABLE notes"],
)
TAGS = Migration(
    id="002",
    description="tags",
    up=["ALTER TABLE notes ADD COLUMN tag TEXT", "CREATE TABLE drafts (id INTEGER)"],
    down=[
        "DELETE FROM notes WHERE kind = 'draft'",
        "DROP TABLE drafts",
        "ALTER TABLE notes DROP COLUMN tag",
    ],
)


async def test_preview_counts_rows_on_the_backend_and_changes_nothing(any_db: Database) -> None:
    migrator = Migrator(any_db, [NOTES, TAGS])
    await migrator.migrate()
    for number, (kind, tag) in enumerate([("draft", "a"), ("draft", None), ("final", "b")]):
        await any_db.execute(
            "INSERT INTO notes (id, kind, tag) VALUES (:id, :kind, :tag)",
            {"id": number, "kind": kind, "tag": tag},
        )

    preview = await preview_rollback(any_db, await migrator.plan_rollback("0"))

    counts = [[(loss.kind, loss.rows) for loss in step.losses] for step in preview.steps]
    assert counts == [[("rows", 2), ("table", 0), ("column", 2)], [("table", 3)]]
    assert preview.rows_at_risk == 7
    assert preview.needs_confirmation
    assert [record.id for record in await migrator.get_applied()] == ["001", "002"]
    row = await any_db.fetch_one("SELECT COUNT(*) AS n FROM notes")
    assert row is not None
    assert row["n"] == 3


async def test_a_count_that_fails_is_unknown_and_asks_for_confirmation(db: Database) -> None:
    gone = Migration(id="001", description="gone", up=["SELECT 1"], down=["DROP TABLE gone"])
    preview = await preview_rollback(db, [gone])
    loss = preview.steps[0].losses[0]
    assert loss.rows is None
    assert loss.note is not None
    assert loss.note.startswith("not counted: ")
    assert "gone" in loss.note
    assert preview.rows_at_risk is None
    assert preview.needs_confirmation


async def test_plan_rollback_is_what_rollback_undoes(db: Database) -> None:
    migrator = Migrator(db, [NOTES, TAGS])
    await migrator.migrate()
    assert [m.id for m in await migrator.plan_rollback()] == ["002"]
    assert [m.id for m in await migrator.plan_rollback("0")] == ["002", "001"]
    assert [m.id for m in await migrator.plan_rollback("001")] == ["002"]
    undone = await migrator.rollback_to("0")
    assert [result.migration.id for result in undone] == ["002", "001"]
    assert await migrator.plan_rollback() == []
