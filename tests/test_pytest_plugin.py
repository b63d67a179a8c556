"""The pytest plugin (agentsdb.testing.pytest_plugin), run on generated test suites: a fresh
migrated database per test, from a template migrated once per session, on SQLite by default and
on a PostgreSQL server by URL, with the application's own migration sets applied too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentsdb.migrations import builtin_migrations

# The plugin by module, whether or not the installed agentsdb declares its entry point.
PLUGIN = ("-p", "no:agentsdb", "-p", "agentsdb.testing.pytest_plugin", "-p", "no:cacheprovider")

FRESH_DATABASE_TESTS = """
import json, os, pytest

async def _record(db, name):
    row = await db.fetch_one(
        "SELECT applied_at, (SELECT count(*) FROM agentsdb_migrations) AS n "
        "FROM agentsdb_migrations WHERE id = '001'"
    )
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"test": name, "applied_at": row["applied_at"], "n": row["n"],
                              "dialect": db.dialect}) + "\\n")

@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["first", "second", "third"])
async def test_writes_in_a_fresh_database(agentsdb_db, name):
    await _record(agentsdb_db, name)
    await agentsdb_db.execute("CREATE TABLE scratch_marks (v TEXT)")  # fails if it survived
    await agentsdb_db.execute("INSERT INTO scratch_marks (v) VALUES (:v)", {"v": name})
"""

NOTES_MIGRATION = """
from agentsdb.migration import Migration

migration = Migration(
    id="001",
    description="session notes",
    up=["CREATE TABLE session_notes (id INTEGER PRIMARY KEY, "
        "session_id TEXT NOT NULL REFERENCES sessions (id), body TEXT)"],
    down=["DROP TABLE session_notes"],
    requires=["agentsdb:002"],
)
"""

APP_SET_TEST = """
import pytest

@pytest.mark.asyncio
async def test_the_application_set_is_applied(agentsdb_db):
    rows = await agentsdb_db.fetch_all("SELECT id FROM agentsdb_migrations ORDER BY seq")
    assert "myapp:001" in [row["id"] for row in rows]
    assert (await agentsdb_db.fetch_one("SELECT count(*) AS n FROM session_notes"))["n"] == 0
"""


def read_records(path: Path) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


def run_suite(pytester: pytest.Pytester, out: Path, *args: str) -> pytest.RunResult:
    os.environ["OUT"] = str(out)
    try:
        return pytester.runpytest_subprocess(*PLUGIN, *args)
    finally:
        del os.environ["OUT"]


def test_each_test_gets_a_fresh_database_copied_from_one_migrated_template(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_fresh=FRESH_DATABASE_TESTS)
    out = tmp_path / "records.jsonl"
    result = run_suite(pytester, out)
    result.assert_outcomes(passed=3)
    records = read_records(out)
    assert {r["dialect"] for r in records} == {"sqlite"}
    assert {r["n"] for r in records} == {len(builtin_migrations())}
    # Migrations ran once: every test's database carries the template's timestamps.
    assert len({r["applied_at"] for r in records}) == 1


def test_application_sets_named_in_the_ini_file_are_applied(pytester: pytest.Pytester) -> None:
    migrations = pytester.mkdir("migrations")
    (migrations / "001_session_notes.py").write_text(NOTES_MIGRATION)
    pytester.makeini("[pytest]\nagentsdb_migration_sets =\n    myapp=migrations\n")
    pytester.makepyfile(test_app=APP_SET_TEST)
    pytester.runpytest_subprocess(*PLUGIN).assert_outcomes(passed=1)


def test_application_sets_can_come_from_an_overridden_fixture(pytester: pytest.Pytester) -> None:
    migrations = pytester.mkdir("app_migrations")
    (migrations / "001_session_notes.py").write_text(NOTES_MIGRATION)
    pytester.makeconftest(
        """
import pytest
from agentsdb.migration_set import MigrationSet
from agentsdb.migrations import builtin_set, load_migrations

@pytest.fixture(scope="session")
def agentsdb_migration_sets():
    return [builtin_set(), MigrationSet("myapp", load_migrations("app_migrations"))]
"""
    )
    pytester.makepyfile(test_app=APP_SET_TEST)
    pytester.runpytest_subprocess(*PLUGIN).assert_outcomes(passed=1)


def test_a_postgresql_url_gives_each_test_a_clone_of_the_template(
    pytester: pytest.Pytester, tmp_path: Path, postgres_server_url: str
) -> None:
    pytester.makepyfile(test_fresh=FRESH_DATABASE_TESTS)
    out = tmp_path / "records.jsonl"
    result = run_suite(pytester, out, f"--agentsdb-url={postgres_server_url}")
    result.assert_outcomes(passed=3)
    records = read_records(out)
    assert {r["dialect"] for r in records} == {"postgresql"}
    assert len({r["applied_at"] for r in records}) == 1


def test_a_libsql_url_is_refused_with_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fresh=FRESH_DATABASE_TESTS)
    result = pytester.runpytest_subprocess(*PLUGIN, "--agentsdb-url=http://127.0.0.1:9")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*libsql server cannot create a database per test*"])


def test_the_plugin_adds_nothing_a_suite_without_agentsdb_fixtures_notices(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess(*PLUGIN)
    result.assert_outcomes(passed=1)
    assert not list(Path(pytester.path).glob("*.db"))


def test_application_sets_can_be_named_on_the_command_line(pytester: pytest.Pytester) -> None:
    migrations = pytester.mkdir("cli_migrations")
    (migrations / "001_session_notes.py").write_text(NOTES_MIGRATION)
    pytester.makepyfile(test_app=APP_SET_TEST)
    result = pytester.runpytest_subprocess(*PLUGIN, "--agentsdb-set=myapp=cli_migrations")
    result.assert_outcomes(passed=1)
