"""The Database capabilities, proved on every backend through one fixture.

Repositories, queries and jobs ask the Database what differs per backend (how JSON comes back,
how many rows insert and report their keys, rows as tuples, a table's columns, indexes and
triggers, the schema's tables, which transactions exist, whether TEMP tables outlive a call)
instead of asking which backend it is. Each test runs once per backend (``sqlite``, ``postgresql``,
``libsql-ws``, ``libsql-http``) and checks that what a capability says is what the backend does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentsdb.db.base import Atomic, Database, Execute, FetchAll, Program
from agentsdb.errors import AgentsDBError, UniqueViolationError, UnsupportedOperationError

#: An integer key the database assigns, spelled the way each SQL dialect spells it.
_AUTO_KEY = {
    "sqlite": "id INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}


async def make_notes(db: Database) -> None:
    """A table with a database-assigned key, a unique column and a nullable one."""
    await db.execute(
        f"CREATE TABLE notes ({_AUTO_KEY[db.dialect]}, name TEXT NOT NULL UNIQUE, qty INTEGER)"
    )


def insert_program(db: Database, rows: list[dict[str, Any]]) -> Program[list[int]]:
    """The rows inserted as one atomic unit after a step of the caller's, as a repository
    writes them; their new keys."""
    return (
        yield from db.insert_rows("notes", ("name", "qty"), rows, before=(Execute("SELECT 1"),))
    )


async def stored_notes(db: Database) -> dict[int, tuple[str, int | None]]:
    rows = await db.fetch_all("SELECT id, name, qty FROM notes ORDER BY id")
    return {int(r["id"]): (str(r["name"]), r["qty"]) for r in rows}


# --- insert_rows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5, 1500])
async def test_insert_rows_reports_each_rows_new_key_in_row_order(
    any_db: Database, count: int
) -> None:
    await make_notes(any_db)
    await any_db.run(insert_program(any_db, [{"name": "before", "qty": 0}]))
    # Names in an order unlike key order, and a NULL, so a key given to the wrong row shows.
    rows = [
        {"name": f"n{(i * 7919) % 10007:05d}", "qty": None if i % 3 else i} for i in range(count)
    ]

    keys = await any_db.run(insert_program(any_db, rows))

    assert len(keys) == count
    assert keys == sorted(keys)
    assert len(set(keys)) == count
    stored = await stored_notes(any_db)
    assert {key: stored[key] for key in keys} == {
        key: (row["name"], row["qty"]) for key, row in zip(keys, rows, strict=True)
    }
    assert len(stored) == count + 1


async def test_insert_rows_keeps_nothing_when_one_row_is_refused(any_db: Database) -> None:
    await make_notes(any_db)
    await any_db.run(insert_program(any_db, [{"name": "taken", "qty": 1}]))
    rows = [{"name": f"new{i}", "qty": i} for i in range(40)]
    rows[25] = {"name": "taken", "qty": 2}

    with pytest.raises(UniqueViolationError):
        await any_db.run(insert_program(any_db, rows))

    assert await stored_notes(any_db) == {1: ("taken", 1)}
    # The unit failed whole; the same insert without the refused row then stores every row.
    del rows[25]
    keys = await any_db.run(insert_program(any_db, rows))
    stored = await stored_notes(any_db)
    assert [stored[key] for key in keys] == [(row["name"], row["qty"]) for row in rows]


@pytest.mark.parametrize(
    ("table", "columns", "key", "field"),
    [
        ("notes; DROP TABLE notes", ("name",), "id", "table"),
        ("notes", ("name", "qty)"), "id", "columns"),
        ("notes", ("name",), "id --", "key"),
        ("notes", (), "id", "columns"),
    ],
)
async def test_insert_rows_refuses_a_name_that_is_not_an_identifier_before_any_sql(
    any_db: Database, table: str, columns: tuple[str, ...], key: str, field: str
) -> None:
    await make_notes(any_db)

    with pytest.raises(AgentsDBError, match=field):
        await any_db.run(any_db.insert_rows(table, columns, [{"name": "x", "qty": 1}], key=key))

    assert await stored_notes(any_db) == {}


# --- fetch_values --------------------------------------------------------------------------------


async def test_fetch_values_gives_the_rows_fetch_all_gives_as_tuples_in_select_list_order(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    await any_db.run(
        insert_program(any_db, [{"name": f"n{i}", "qty": None if i == 2 else i} for i in range(5)])
    )
    sql = "SELECT qty, name, id FROM notes WHERE id > :after ORDER BY id"

    rows = await any_db.fetch_all(sql, {"after": 1})
    values = await any_db.fetch_values(sql, {"after": 1})

    assert all(isinstance(row, tuple) for row in values)
    assert values == [(row["qty"], row["name"], row["id"]) for row in rows]
    assert [name for _, name, _ in values] == ["n1", "n2", "n3", "n4"]
    assert await any_db.fetch_values(sql, {"after": 99}) == []


async def test_fetch_values_keeps_every_column_of_a_repeated_name(any_db: Database) -> None:
    await make_notes(any_db)
    await any_db.run(insert_program(any_db, [{"name": "a", "qty": 7}]))

    # A dict row keeps one of them; a tuple keeps both, in order.
    assert await any_db.fetch_values("SELECT name AS v, qty AS v FROM notes") == [("a", 7)]


async def test_fetch_values_refuses_bad_sql_as_fetch_all_does_and_changes_nothing(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    await any_db.run(insert_program(any_db, [{"name": "kept", "qty": 1}]))

    with pytest.raises(AgentsDBError) as by_rows:
        await any_db.fetch_all("SELECT nothing FROM notes")
    with pytest.raises(AgentsDBError) as by_values:
        await any_db.fetch_values("SELECT nothing FROM notes")

    assert type(by_values.value) is type(by_rows.value)
    assert "SELECT nothing FROM notes" in str(by_values.value)
    assert await stored_notes(any_db) == {1: ("kept", 1)}


# --- json_decoded --------------------------------------------------------------------------------


async def test_json_decoded_says_how_a_json_column_comes_back(migrated_any_db: Database) -> None:
    document = {"step": "profiles", "key": ["alice", 3], "text": 'é "quoted"'}
    await migrated_any_db.execute(
        "INSERT INTO agentsdb_job_runs (job, status, last_key, report, batches, started_at,"
        " updated_at) VALUES ('j', 'running', :last_key, :report, 1, 't', 't')",
        {"last_key": json.dumps(document), "report": json.dumps({"n": 1})},
    )

    row = await migrated_any_db.fetch_one("SELECT last_key FROM agentsdb_job_runs")

    assert row is not None
    value = row["last_key"]
    assert isinstance(value, str) is not migrated_any_db.json_decoded
    assert (value if migrated_any_db.json_decoded else json.loads(value)) == document


# --- table_columns -------------------------------------------------------------------------------


async def test_table_columns_lists_a_tables_columns_in_declaration_order(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    await any_db.execute("CREATE TABLE zeta (b TEXT, a TEXT, c INTEGER)")

    assert await any_db.table_columns("notes") == ("id", "name", "qty")
    assert await any_db.table_columns("zeta") == ("b", "a", "c")
    assert await any_db.table_columns("no_such_table") == ()


# --- table_names, table_indexes, table_triggers --------------------------------------------------


async def test_table_names_lists_the_schemas_tables_sorted_and_no_views(any_db: Database) -> None:
    assert await any_db.table_names() == ()
    await any_db.execute("CREATE TABLE zeta (b TEXT)")
    await make_notes(any_db)  # its AUTOINCREMENT makes SQLite's own sqlite_sequence
    await any_db.execute("CREATE TABLE alpha (a TEXT)")
    await any_db.execute("CREATE VIEW zeta_view AS SELECT b FROM zeta")

    assert await any_db.table_names() == ("alpha", "notes", "zeta")
    await any_db.execute("DROP VIEW zeta_view")
    await any_db.execute("DROP TABLE zeta")
    assert await any_db.table_names() == ("alpha", "notes")


async def test_table_indexes_lists_the_indexes_made_on_a_table_not_its_constraints(
    any_db: Database,
) -> None:
    await make_notes(any_db)  # a PRIMARY KEY and a UNIQUE column: indexes of constraints
    await any_db.execute("CREATE TABLE other (x INTEGER)")
    await any_db.execute("CREATE INDEX notes_qty ON notes (qty)")
    await any_db.execute("CREATE UNIQUE INDEX notes_name_qty ON notes (name, qty)")
    await any_db.execute("CREATE INDEX other_x ON other (x)")

    assert await any_db.table_indexes("notes") == ("notes_name_qty", "notes_qty")
    assert await any_db.table_indexes("other") == ("other_x",)
    assert await any_db.table_indexes("no_such_table") == ()
    await any_db.execute("DROP INDEX notes_qty")
    assert await any_db.table_indexes("notes") == ("notes_name_qty",)


#: A trigger that stamps a row's ``qty`` on insert, spelled the way each SQL dialect spells it.
_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER notes_stamp AFTER INSERT ON notes"
        " BEGIN UPDATE notes SET qty = 42 WHERE id = NEW.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION notes_stamp() RETURNS trigger LANGUAGE plpgsql AS"
        " 'BEGIN NEW.qty := 42; RETURN NEW; END'",
        "CREATE TRIGGER notes_stamp BEFORE INSERT ON notes"
        " FOR EACH ROW EXECUTE FUNCTION notes_stamp()",
    ],
}


async def test_table_triggers_gives_each_trigger_on_a_table_with_its_definition(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    await any_db.execute("CREATE TABLE other (x INTEGER)")
    assert await any_db.table_triggers("notes") == {}
    for statement in _TRIGGER[any_db.dialect]:
        await any_db.execute(statement)

    triggers = await any_db.table_triggers("notes")

    assert list(triggers) == ["notes_stamp"]
    assert triggers["notes_stamp"].startswith("CREATE TRIGGER notes_stamp ")
    assert "INSERT ON " in triggers["notes_stamp"]
    assert await any_db.table_triggers("other") == {}
    assert await any_db.table_triggers("no_such_table") == {}
    await any_db.execute("INSERT INTO notes (name) VALUES ('stamped')")
    assert await stored_notes(any_db) == {1: ("stamped", 42)}


# --- reports_insert_id ---------------------------------------------------------------------------

#: A trigger that records each new note in ``audit``, a table whose key the database assigns too.
_AUDIT_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER notes_audit AFTER INSERT ON notes"
        " BEGIN INSERT INTO audit (note) VALUES (NEW.name); END"
    ],
    "postgresql": [
        "CREATE FUNCTION notes_audit() RETURNS trigger LANGUAGE plpgsql AS"
        " 'BEGIN INSERT INTO audit (note) VALUES (NEW.name); RETURN NEW; END'",
        "CREATE TRIGGER notes_audit AFTER INSERT ON notes"
        " FOR EACH ROW EXECUTE FUNCTION notes_audit()",
    ],
}


def _inserts_around_an_update() -> Program[list[Any]]:
    results: list[Any] = yield Atomic(
        (
            Execute("INSERT INTO notes (name, qty) VALUES ('first', 1)"),
            Execute("UPDATE notes SET qty = 2 WHERE name = 'first'"),
            Execute("INSERT INTO notes (name, qty) VALUES ('second', 1)"),
        )
    )
    return results


async def test_reports_insert_id_is_kept_each_plain_insert_reports_the_key_it_gave(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    await any_db.execute(f"CREATE TABLE audit ({_AUTO_KEY[any_db.dialect]}, note TEXT)")
    # The audit keys run ahead of the notes' keys, so a key of the trigger's insert shows.
    for _ in range(5):
        await any_db.execute("INSERT INTO audit (note) VALUES ('earlier')")
    for statement in _AUDIT_TRIGGER[any_db.dialect]:
        await any_db.execute(statement)

    first, update, second = await any_db.run(_inserts_around_an_update())

    keys = {name: key for key, (name, _) in (await stored_notes(any_db)).items()}
    assert update.last_insert_id is None
    if any_db.reports_insert_id:
        assert (first.last_insert_id, second.last_insert_id) == (keys["first"], keys["second"])
    else:
        assert (first.last_insert_id, second.last_insert_id) == (None, None)
    assert len(await any_db.fetch_all("SELECT id FROM audit")) == 7


# --- interactive_transactions --------------------------------------------------------------------


async def test_interactive_transactions_says_whether_a_transaction_stays_open_across_calls(
    any_db: Database,
) -> None:
    await make_notes(any_db)
    seen: list[dict[str, Any]] | None = None
    try:
        async with any_db.transaction() as tx:
            await tx.execute("INSERT INTO notes (name, qty) VALUES ('inside', 1)")
            seen = await tx.fetch_all("SELECT name FROM notes")
    except UnsupportedOperationError:
        seen = None

    assert (seen == [{"name": "inside"}]) is any_db.interactive_transactions
    # Without interactive transactions an Atomic is still one unit.
    await any_db.run(insert_program(any_db, [{"name": "atomic", "qty": 2}]))
    assert len(await stored_notes(any_db)) == (2 if any_db.interactive_transactions else 1)


# --- temp_tables_persist -------------------------------------------------------------------------


def _temp_rows() -> Program[list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = yield FetchAll("SELECT x FROM probe_scratch ORDER BY x")
    return rows


async def test_temp_tables_persist_is_kept_a_temp_table_and_its_rows_outlive_the_call(
    any_db: Database,
) -> None:
    # A backend may keep them without promising to (a pool that hands back the same
    # connection): only a promise can be held to.
    if not any_db.temp_tables_persist:
        pytest.skip("this backend makes no promise about TEMP tables between calls")
    await any_db.execute("CREATE TEMP TABLE probe_scratch (x INTEGER)")
    await any_db.execute_many("INSERT INTO probe_scratch (x) VALUES (:x)", [{"x": 1}, {"x": 2}])

    # Kept for plain reads and programs alike.
    assert await any_db.fetch_all("SELECT x FROM probe_scratch ORDER BY x") == [{"x": 1}, {"x": 2}]
    assert await any_db.run(_temp_rows()) == [{"x": 1}, {"x": 2}]
