"""The command line's surface, run as real subprocesses: --version, help, usage errors (exit 2),
options that must work where they are accepted, and --json output parsed as JSON."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from test_cli import BUILTIN_IDS, NEWEST, applied_ids, run_cli, write_migration

SUBCOMMANDS = ("migrate", "rollback", "status", "validate", "new", "repair", "backfill", "events")


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"agentsdb {version('agentsdb')}"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help_has_a_description(tmp_path: Path, command: str) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # usage, a blank line, then the description paragraph before the arguments.
    paragraphs = result.stdout.split("\n\n")
    assert not paragraphs[1].lstrip().startswith(("positional arguments", "options"))
    assert len(paragraphs[1].split()) >= 6


def test_repair_help_explains_its_id(tmp_path: Path) -> None:
    result = run_cli("repair", "--help", cwd=tmp_path)
    assert re.search(r"ID\s+the migration's id", result.stdout)


def test_backfill_help_lists_the_jobs(tmp_path: Path) -> None:
    result = run_cli("backfill", "--help", cwd=tmp_path)
    assert "bluesky-profiles" in result.stdout
    assert "agent-scope" in result.stdout
    assert "--dir" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("rollback", "--to", "abc"),
        ("migrate", "--target", "1a"),
        ("repair", "x1", "--remove"),
        ("status", "--db", ""),
        ("status", "--db", "   "),
        ("--db", "", "status"),
        ("status", "--db", "sqlite:///"),
        ("status", "--db", "sqlite://relative.db"),
        ("status", "--db", "mysql://host/db"),
        ("backfill", "no-such-job"),
        ("backfill", "bluesky-profiles", "--dir", "migs"),
        ("--dir", "migs", "backfill", "bluesky-profiles"),
        ("backfill", "bluesky-profiles", "--source", ""),
        ("validate", "--integrity", "deep"),
        ("rollback", "--dry-run", "--yes"),
    ],
)
def test_usage_errors_exit_2_and_create_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_sqlite_url_is_refused_with_a_clear_reason(tmp_path: Path) -> None:
    result = run_cli("migrate", "--db", "sqlite:///", cwd=tmp_path)
    assert result.returncode == 2
    assert "the sqlite URL names no file" in result.stderr


def test_an_empty_url_in_the_environment_is_refused_with_one_line(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path, env={"AGENTSDB_URL": "sqlite:///"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "the sqlite URL names no file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_global_dir_before_new_is_where_the_migration_is_written(tmp_path: Path) -> None:
    result = run_cli("--dir", "app_migrations", "new", "add widgets", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "app_migrations" / "001_add_widgets.py").exists()
    assert not (tmp_path / "migrations").exists()


def test_new_without_dir_writes_in_migrations(tmp_path: Path) -> None:
    result = run_cli("new", "add widgets", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "migrations" / "001_add_widgets.py").exists()


# --- --json --------------------------------------------------------------------------------------


def test_migrate_json_reports_each_result_and_the_version(tmp_path: Path) -> None:
    result = run_cli("migrate", "--json", "--limit", "2", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["command"] == "migrate"
    assert report["ok"] is True
    assert report["database"] == "x.db"
    assert [(r["id"], r["outcome"], r["direction"]) for r in report["results"]] == [
        ("001", "applied", "up"),
        ("002", "applied", "up"),
    ]
    assert all(r["execution_time_ms"] >= 0 for r in report["results"])
    assert report["version"] == "002"
    assert report["pending"] == len(BUILTIN_IDS) - 2

    again = json.loads(run_cli("migrate", "--json", "--db", "x.db", cwd=tmp_path).stdout)
    noop = json.loads(run_cli("migrate", "--json", "--db", "x.db", cwd=tmp_path).stdout)
    assert len(again["results"]) == len(BUILTIN_IDS) - 2
    assert noop["results"] == []
    assert noop["version"] == NEWEST.id
    assert noop["pending"] == 0


def test_migrate_dry_run_json_says_what_would_apply(tmp_path: Path) -> None:
    run_cli("migrate", "--limit", "1", "--db", "x.db", cwd=tmp_path)
    report = json.loads(
        run_cli("migrate", "--dry-run", "--json", "--db", "x.db", cwd=tmp_path).stdout
    )
    assert report["dry_run"] is True
    assert {r["outcome"] for r in report["results"]} == {"would apply"}
    assert applied_ids(tmp_path / "x.db") == ["001"]


def test_migrate_json_reports_a_failure_with_ok_false_and_the_error(tmp_path: Path) -> None:
    write_migration(
        tmp_path / "migs",
        "001",
        'migration = Migration(id="001", description="broken", up=["CREATE TABLE t (a)", '
        '"CREATE TABLE t (a)"])\n',
    )
    result = run_cli("migrate", "--json", "--dir", "migs", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "migration 001 (broken) failed" in report["error"]
    assert [(r["id"], r["outcome"]) for r in report["results"]] == [("001", "failed")]
    assert report["results"][0]["error"]


def test_status_json_lists_every_migration_with_its_state(tmp_path: Path) -> None:
    run_cli("migrate", "--limit", "1", "--db", "x.db", cwd=tmp_path)
    result = run_cli("status", "--json", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == "001"
    assert report["applied"] == 1
    assert report["pending"] == len(BUILTIN_IDS) - 1
    assert [(m["id"], m["status"]) for m in report["migrations"][:2]] == [
        ("001", "applied"),
        ("002", "pending"),
    ]
    assert set(report["migrations"][0]) == {
        "id",
        "set",
        "description",
        "status",
        "applied_at",
        "execution_time_ms",
    }


def test_validate_json_reports_errors_and_warnings(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    valid = json.loads(run_cli("validate", "--json", "--db", "x.db", cwd=tmp_path).stdout)
    assert valid == {
        "command": "validate",
        "ok": True,
        "database": "x.db",
        "valid": True,
        "errors": [],
        "warnings": [],
        "integrity": None,
    }
    with sqlite3.connect(tmp_path / "x.db") as conn:
        conn.execute("CREATE TABLE sneaky (id INTEGER)")
    result = run_cli("validate", "--json", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    drift = json.loads(result.stdout)
    assert drift["ok"] is False
    assert drift["valid"] is False
    assert any("changed outside migrations" in error for error in drift["errors"])


def test_rollback_json_reports_what_was_rolled_back(tmp_path: Path) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    result = run_cli("rollback", "--json", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    assert [step["id"] for step in report["plan"]] == [NEWEST.id]
    assert report["rows_at_risk"] == 0
    assert [(r["id"], r["outcome"], r["direction"]) for r in report["results"]] == [
        (NEWEST.id, "rolled back", "down")
    ]


def test_an_error_before_any_work_is_json_too(tmp_path: Path) -> None:
    result = run_cli("status", "--json", "--db", "missing.db", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == {"command": "status", "ok": False, "error": report["error"]}
    assert "missing.db" in report["error"]


# --- start-up -------------------------------------------------------------------------------------

NOT_FOR_MIGRATE = (
    "agentsdb.jobs",
    "tqdm",
    "agentsdb.db.libsql",
    "agentsdb.db.libsql.migration_runner",
    "importlib.metadata",
    "agentsdb.migrator.rollback_preview",
    "json",
    "shutil",
)


def test_a_no_op_migrate_loads_neither_backfill_jobs_nor_libsql_nor_package_metadata(
    tmp_path: Path,
) -> None:
    run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    script = (
        "import sys, contextlib, io\n"
        "from agentsdb.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['migrate', '--db', 'x.db'])\n"
        "print(code, ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    code, loaded = result.stdout.split(" ", 1)
    assert code == "0"
    modules = set(loaded.split())
    assert "agentsdb.cli_noop" in modules
    unwanted = {m for m in modules if m.startswith(NOT_FOR_MIGRATE)}
    assert unwanted == set()
    # Proved by one synchronous query: no event loop, driver, engine or pydantic.
    assert {"asyncio", "aiosqlite", "agentsdb.migrator.engine", "pydantic_core"} & modules == set()
