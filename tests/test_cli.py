"""Every CLI command, run as a real subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentsdb.migrations import builtin_migrations

BUILTIN_IDS = [migration.id for migration in builtin_migrations()]
NEWEST = builtin_migrations()[-1]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "AGENTSDB_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agentsdb", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def applied_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM agentsdb_migrations ORDER BY seq")]


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def write_migration(folder: Path, number: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{number}_step.py").write_text(
        "from agentsdb.migration import Migration\n\n" + textwrap.dedent(body), encoding="utf-8"
    )


def test_migrate_without_db_creates_agents_db_in_the_current_folder(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "applied 001 initial schema" in result.stdout
    assert "applied 002 add session tables" in result.stdout
    assert applied_ids(tmp_path / "agents.db") == BUILTIN_IDS


def test_migrate_uses_agentsdb_url_when_no_db_option(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path, env={"AGENTSDB_URL": "sqlite:///from_env.db"})
    assert result.returncode == 0, result.stderr
    assert applied_ids(tmp_path / "from_env.db") == BUILTIN_IDS
    assert not (tmp_path / "agents.db").exists()


def test_migrate_twice_reports_nothing_to_migrate(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    result = run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0
    assert f"Nothing to migrate; the database is at version {NEWEST.id}." in result.stdout


def test_db_option_works_before_the_command(tmp_path: Path) -> None:
    result = run_cli("--db", "before.db", "migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert applied_ids(tmp_path / "before.db") == BUILTIN_IDS


def test_migrate_dry_run_changes_nothing(tmp_path: Path) -> None:
    run_cli("migrate", "--limit", "1", "--db", "x.db", cwd=tmp_path)
    result = run_cli("migrate", "--dry-run", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "would apply 002 add session tables" in result.stdout
    assert applied_ids(tmp_path / "x.db") == ["001"]
    assert table_names(tmp_path / "x.db") == {"agentsdb_migrations", "agents"}


def test_migrate_rehearse_leaves_no_trace(tmp_path: Path) -> None:
    result = run_cli("migrate", "--rehearse", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rehearsed 003 add users" in result.stdout
    # 004 rebuilds tables with foreign keys off, which cannot change inside the rehearsal's one
    # transaction: the rehearsal says so and stops there.
    assert "skipped 004 add agent profiles: not rehearsed: it needs foreign keys switched off" in (
        result.stdout
    )
    assert table_names(tmp_path / "x.db") <= {"agentsdb_migrations"}
    assert applied_ids(tmp_path / "x.db") == []


def test_migrate_limit_and_target(tmp_path: Path) -> None:
    assert run_cli("migrate", "--limit", "1", "--db", "a.db", cwd=tmp_path).returncode == 0
    assert applied_ids(tmp_path / "a.db") == ["001"]
    assert run_cli("migrate", "--target", "001", "--db", "b.db", cwd=tmp_path).returncode == 0
    assert applied_ids(tmp_path / "b.db") == ["001"]


def test_rollback_undoes_the_newest_then_to_zero_undoes_all(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    result = run_cli("rollback", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"rolled back {NEWEST.id} {NEWEST.description}" in result.stdout
    assert applied_ids(tmp_path / "x.db") == BUILTIN_IDS[:-1]
    result = run_cli("rollback", "--to", "0", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert applied_ids(tmp_path / "x.db") == []
    assert "agents" not in table_names(tmp_path / "x.db")
    result = run_cli("rollback", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0
    assert "Nothing to roll back." in result.stdout


def test_status_lists_applied_and_pending(tmp_path: Path) -> None:
    run_cli("migrate", "--limit", "1", "--db", "x.db", cwd=tmp_path)
    result = run_cli("status", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "DESCRIPTION", "STATUS", "APPLIED", "AT", "TIME", "MS"]
    assert lines[1].startswith("001")
    assert "applied" in lines[1]
    assert lines[2].startswith("002")
    assert "pending" in lines[2]
    pending = len(BUILTIN_IDS) - 1
    assert f"Version 001: 1 applied, {pending} pending." in result.stdout


def test_validate_exits_1_when_the_schema_changed_outside_migrations(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    assert run_cli("validate", "--db", "x.db", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "x.db") as conn:
        conn.execute("CREATE TABLE sneaky (id INTEGER)")
    result = run_cli("validate", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "changed outside migrations" in result.stdout


def test_new_scaffolds_the_next_numbered_module(tmp_path: Path) -> None:
    write_migration(
        tmp_path / "migs",
        "007",
        'migration = Migration(id="007", description="seven", up=["CREATE TABLE t (a)"])\n',
    )
    result = run_cli("new", "Add memories table!", "--dir", "migs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    created = tmp_path / "migs" / "008_add_memories_table.py"
    assert created.exists()
    assert "id='008'" in created.read_text(encoding="utf-8")


def test_a_migration_folder_replaces_the_builtin_migrations(tmp_path: Path) -> None:
    write_migration(
        tmp_path / "migs",
        "001",
        'migration = Migration(id="001", description="one", up=["CREATE TABLE t (a)"], '
        'down=["DROP TABLE t"])\n',
    )
    result = run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert table_names(tmp_path / "x.db") == {"agentsdb_migrations", "t"}


def test_repair_resolves_a_dirty_migration(tmp_path: Path) -> None:
    write_migration(
        tmp_path / "migs",
        "001",
        'migration = Migration(id="001", description="bare", transactional=False, '
        'up=["CREATE TABLE t (a)", "INSERT INTO missing VALUES (1)"], down=["DROP TABLE t"])\n',
    )
    failed = run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert failed.returncode == 1
    assert "recorded as dirty" in failed.stderr
    blocked = run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert blocked.returncode == 1
    assert "agentsdb repair 001" in blocked.stderr
    repaired = run_cli(
        "repair", "001", "--mark-applied", "--dir", "migs", "--db", "x.db", cwd=tmp_path
    )
    assert repaired.returncode == 0, repaired.stderr
    after = run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "Nothing to migrate" in after.stdout


def test_repair_of_a_clean_migration_fails_with_one_line(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    result = run_cli("repair", "001", "--remove", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: migration 001 is recorded as applied, not dirty; nothing to repair"
    ]


def test_failed_migration_prints_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    write_migration(
        tmp_path / "migs",
        "001",
        'migration = Migration(id="001", description="broken", up=["CREATE TABLE t (a)", '
        '"CREATE TABLE t (a)"])\n',
    )
    result = run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "migration 001 (broken) failed and was rolled back" in result.stderr
    assert table_names(tmp_path / "x.db") == {"agentsdb_migrations"}


@pytest.mark.parametrize(
    "args",
    [
        ("migrate", "--limit", "-1"),
        ("migrate", "--dry-run", "--rehearse"),
        ("repair", "001"),
        ("rollback", "--to", "abc"),
        ("frobnicate",),
        (),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_unavailable_backend_fails_with_one_line_naming_the_extra(tmp_path: Path) -> None:
    result = run_cli("status", "--db", "postgresql://user:secret@127.0.0.1:1/db", cwd=tmp_path)
    assert result.returncode == 1
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_repair_accept_down_lets_an_edited_down_roll_back(tmp_path: Path) -> None:
    body = 'migration = Migration(id="001", description="t", up=["CREATE TABLE t (a)"], down={})\n'
    write_migration(tmp_path / "migs", "001", body.format('["DROP TABLE t"]'))
    assert run_cli("migrate", "--dir", "migs", "--db", "x.db", cwd=tmp_path).returncode == 0
    write_migration(tmp_path / "migs", "001", body.format('["DROP TABLE IF EXISTS t"]'))
    refused = run_cli("rollback", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert refused.returncode == 1
    assert "agentsdb repair 001 --accept-down" in refused.stderr
    accepted = run_cli(
        "repair", "001", "--accept-down", "--dir", "migs", "--db", "x.db", cwd=tmp_path
    )
    assert accepted.returncode == 0, accepted.stderr
    rolled = run_cli("rollback", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert rolled.returncode == 0, rolled.stderr
    assert table_names(tmp_path / "x.db") == {"agentsdb_migrations"}


def test_drift_fails_fail_on_drift_and_validate_until_accept_drift(tmp_path: Path) -> None:
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "agents.db") as conn:
        conn.execute("CREATE TABLE sneaky (id INTEGER)")
    strict = run_cli("migrate", "--fail-on-drift", cwd=tmp_path)
    assert strict.returncode == 1
    assert "changed outside migrations" in strict.stderr
    assert run_cli("migrate", cwd=tmp_path).returncode == 0  # the plain no-op start stays O(1)
    assert run_cli("validate", cwd=tmp_path).returncode == 1
    accepted = run_cli("accept-drift", cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert "Accepted the live schema" in accepted.stdout
    assert run_cli("validate", cwd=tmp_path).returncode == 0
    assert run_cli("migrate", "--fail-on-drift", cwd=tmp_path).returncode == 0
    assert "No drift to accept" in run_cli("accept-drift", cwd=tmp_path).stdout
