"""Migration sets on the command line: ``new --set`` numbers within an application's folder,
``--set NAME=DIR`` adds the set to every migration command, ``rollback --to SET:ID`` and
``repair SET:ID`` name its migrations, and ``--set agentsdb-cutover`` applies the cutover."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import run_cli

from agentsdb.migrations import builtin_migrations

NEWEST = builtin_migrations()[-1].id

NOTES = """
from agentsdb.migration import Migration

migration = Migration(
    id="001",
    description="session notes",
    up=["CREATE TABLE session_notes (id INTEGER PRIMARY KEY, "
        "session_id TEXT NOT NULL REFERENCES sessions (id), body TEXT)"],
    down=["DROP TABLE session_notes"],
    requires=["agentsdb:005"],
)
"""


def test_new_numbers_an_application_folder_on_its_own(tmp_path: Path) -> None:
    result = run_cli("new", "add notes", "--set", "myapp", "--dir", "app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "app" / "001_add_notes.py"
    assert written.exists()
    assert "requires=[]" in written.read_text()
    second = run_cli("new", "add tags", "--set", "myapp", "--dir", "app", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "app" / "002_add_tags.py").exists()


def test_an_application_set_migrates_beside_the_builtin_one(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "001_session_notes.py").write_text(NOTES)
    migrated = run_cli("migrate", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli("status", "--json", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path)
    report = json.loads(status.stdout)
    assert report["versions"] == {"agentsdb": NEWEST, "myapp": "myapp:001"}
    assert report["pending"] == 0
    assert ("myapp:001", "myapp") in [(m["id"], m["set"]) for m in report["migrations"]]
    # Without the set, agentsdb's own commands leave its rows alone.
    alone = run_cli("validate", "--db", "x.db", cwd=tmp_path)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    listed = json.loads(run_cli("status", "--json", "--db", "x.db", cwd=tmp_path).stdout)
    assert ("myapp:001", "unregistered") in [(m["id"], m["status"]) for m in listed["migrations"]]
    shown = run_cli("status", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path).stdout
    assert f"Versions {NEWEST}, myapp:001: " in shown
    refused = run_cli(
        "rollback", "--to", "004", "--yes", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path
    )
    assert refused.returncode == 1
    assert "myapp:001 requires agentsdb:005" in refused.stderr + refused.stdout
    undone = run_cli(
        "rollback", "--to", "myapp:0", "--yes", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path
    )
    assert undone.returncode == 0, undone.stderr
    after = run_cli("status", "--json", "--db", "x.db", "--set", "myapp=app", cwd=tmp_path)
    states = {m["id"]: m["status"] for m in json.loads(after.stdout)["migrations"]}
    assert states["myapp:001"] == "pending"
    assert states[NEWEST] == "applied"


def test_the_cutover_set_applies_from_the_command_line_and_stays_valid(tmp_path: Path) -> None:
    assert run_cli("migrate", "--db", "x.db", cwd=tmp_path).returncode == 0
    cutover = run_cli("migrate", "--db", "x.db", "--set", "agentsdb-cutover", cwd=tmp_path)
    assert cutover.returncode == 0, cutover.stderr
    assert "010" in cutover.stdout
    for command in (["migrate"], ["validate"], ["rollback", "--dry-run"]):
        after = run_cli(*command, "--db", "x.db", cwd=tmp_path)
        assert after.returncode == 0, (command, after.stdout, after.stderr)


def test_a_set_option_that_is_not_name_equals_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("status", "--db", "x.db", "--set", "My App", cwd=tmp_path)
    assert result.returncode == 2
    assert "NAME=FOLDER" in result.stderr
