"""Ops commands that cannot destroy by accident, run as real subprocesses: rollback previews and
confirmation, commands that never create a database, and the integrity check."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import BUILTIN_IDS, applied_ids, run_cli, table_names

TIMESTAMP = "2026-01-01T00:00:00.000000Z"


def migrated(tmp_path: Path, name: str = "x.db", agents: int = 0) -> Path:
    result = run_cli("migrate", "--db", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / name
    if agents:
        with sqlite3.connect(path) as conn:
            conn.executemany(
                "INSERT INTO agents (id, name, model, description, created_at, updated_at) "
                "VALUES (?, ?, 'model', ?, ?, ?)",
                [
                    (f"agent-{n:06d}", f"name {n}", "x" * 300, TIMESTAMP, TIMESTAMP)
                    for n in range(agents)
                ],
            )
    return path


def count_agents(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM agents").fetchone()[0])


# --- rollback: preview and confirmation -----------------------------------------------------------


def test_rollback_dry_run_counts_the_rows_each_step_would_delete_and_changes_nothing(
    tmp_path: Path,
) -> None:
    path = migrated(tmp_path, agents=25)

    result = run_cli("rollback", "--to", "0", "--dry-run", "--db", "x.db", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "would roll back 009 add agent scope" in result.stdout
    assert "    drops table agents: 25 row(s)" in result.stdout
    assert "    rebuilds table agents: 25 row(s) at risk (the rows are kept; " in result.stdout
    assert "    drops column agents.persona_id: 0 value(s)" in result.stdout
    assert "Dry run: nothing was rolled back." in result.stdout
    assert applied_ids(path) == BUILTIN_IDS
    assert count_agents(path) == 25


def test_rollback_dry_run_json_lists_every_step_with_its_counts(tmp_path: Path) -> None:
    migrated(tmp_path, agents=3)

    result = run_cli("rollback", "--to", "0", "--dry-run", "--json", "--db", "x.db", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["command"] == "rollback"
    assert report["ok"] is True
    assert report["dry_run"] is True
    assert [step["id"] for step in report["plan"]] == BUILTIN_IDS[::-1]
    first = report["plan"][-1]
    assert first["deletes"] == [
        {
            "kind": "table",
            "table": "agents",
            "column": None,
            "rows": 3,
            "statement": "DROP TABLE agents",
            "note": None,
        }
    ]
    assert report["results"] == []


def test_rollback_that_deletes_rows_refuses_without_yes_when_stdin_is_not_a_terminal(
    tmp_path: Path,
) -> None:
    path = migrated(tmp_path, agents=5)

    refused = run_cli("rollback", "--to", "0", "--db", "x.db", cwd=tmp_path)

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: rolling back would delete the rows counted above; nothing was rolled back. "
        "Pass --yes to confirm (see them first with --dry-run)"
    ]
    assert "drops table agents: 5 row(s)" in refused.stdout
    assert applied_ids(path) == BUILTIN_IDS
    assert count_agents(path) == 5

    confirmed = run_cli("rollback", "--to", "0", "--yes", "--db", "x.db", cwd=tmp_path)
    assert confirmed.returncode == 0, confirmed.stderr
    assert applied_ids(path) == []
    assert "agents" not in table_names(path)


def test_rollback_of_empty_tables_needs_no_confirmation(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    result = run_cli("rollback", "--to", "0", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert applied_ids(path) == []


def test_rollback_json_without_yes_reports_the_refusal_as_json(tmp_path: Path) -> None:
    path = migrated(tmp_path, agents=1)
    result = run_cli("rollback", "--to", "0", "--json", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "Pass --yes" in report["error"]
    assert report["rows_at_risk"] > 0
    assert applied_ids(path) == BUILTIN_IDS


def run_on_terminal(args: list[str], cwd: Path, answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin (and stdout), answering its prompt."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "AGENTSDB_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "agentsdb", *args],
        cwd=cwd,
        env=environment,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(controller, answer.encode() + b"\n")
                answered = True
        elif process.poll() is not None:
            break
    code = process.wait(timeout=60)
    os.close(controller)
    return code, output.decode(errors="replace")


@pytest.mark.parametrize(("answer", "rolled_back"), [("n", False), ("", False), ("yes", True)])
def test_rollback_on_a_terminal_asks_and_only_yes_rolls_back(
    tmp_path: Path, answer: str, rolled_back: bool
) -> None:
    path = migrated(tmp_path, agents=2)

    code, output = run_on_terminal(["rollback", "--to", "0", "--db", "x.db"], tmp_path, answer)

    assert "Roll back and delete? [y/N]" in output
    assert (code == 0) is rolled_back, output
    assert applied_ids(path) == ([] if rolled_back else BUILTIN_IDS)


# --- only migrate creates a database --------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("validate",),
        ("validate", "--integrity"),
        ("migrate", "--dry-run"),
        ("rollback",),
        ("rollback", "--dry-run"),
        ("repair", "001", "--remove"),
    ],
)
def test_commands_other_than_migrate_refuse_a_missing_file_and_create_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_cli(*args, "--db", "typo.db", cwd=tmp_path)

    assert result.returncode == 1
    missing = tmp_path / "typo.db"
    assert result.stderr.strip().splitlines() == [
        f"error: the SQLite database file '{missing}' does not exist; nothing was "
        "created (only `migrate` creates a database)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_commands_without_db_do_not_create_agents_db(tmp_path: Path) -> None:
    result = run_cli("status", cwd=tmp_path)
    assert result.returncode == 1
    assert "agents.db" in result.stderr
    assert not (tmp_path / "agents.db").exists()


def test_backfill_does_not_create_a_mistyped_source(tmp_path: Path) -> None:
    migrated(tmp_path, "agents.db")
    result = run_cli(
        "backfill", "bluesky-profiles", "--source", "typo.db", "--db", "agents.db", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "typo.db" in result.stderr
    assert "does not exist" in result.stderr
    assert not (tmp_path / "typo.db").exists()


# --- validate --integrity -------------------------------------------------------------------------


def corrupt_a_middle_page_of(path: Path, table: str) -> int:
    """Write garbage over the cells of a leaf page in the middle of ``table``'s b-tree."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        leaves = [
            row[0]
            for row in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                (table,),
            )
        ]
    assert len(leaves) >= 3, "the table needs several leaf pages"
    page = leaves[len(leaves) // 2]
    with path.open("r+b") as file:
        # Keep the page header (8 bytes) and cell pointers; scramble what they point to.
        file.seek((page - 1) * page_size + page_size // 4)
        file.write(bytes(range(256)) * (page_size // 2 // 256))
    return page


def test_validate_integrity_reports_a_corrupted_data_page_that_status_does_not_notice(
    tmp_path: Path,
) -> None:
    path = migrated(tmp_path, agents=400)
    assert run_cli("validate", "--integrity", "--db", "x.db", cwd=tmp_path).returncode == 0
    corrupt_a_middle_page_of(path, "agents")

    status = run_cli("status", "--db", "x.db", cwd=tmp_path)
    plain = run_cli("validate", "--db", "x.db", cwd=tmp_path)
    checked = run_cli("validate", "--integrity", "--db", "x.db", cwd=tmp_path)
    quick = run_cli("validate", "--integrity", "quick", "--json", "--db", "x.db", cwd=tmp_path)

    assert status.returncode == 0, status.stderr
    assert plain.returncode == 0, plain.stderr
    assert checked.returncode == 1
    assert "error: integrity: " in checked.stdout
    report = json.loads(quick.stdout)
    assert quick.returncode == 1
    assert report["ok"] is False
    assert report["valid"] is True
    assert report["integrity"]["mode"] == "quick"
    assert report["integrity"]["problems"]


def test_validate_integrity_on_a_sound_file_says_so(tmp_path: Path) -> None:
    migrated(tmp_path, agents=10)
    result = run_cli("validate", "--integrity", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Migrations are valid and the file is sound." in result.stdout
