"""`agentsdb backfill`, run as a real subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from jobs_support import make_bluesky_source, plant_in_sqlite_file, profile, sqlite_file_rows


def agentsdb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentsdb", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "agents.db"
    assert agentsdb("migrate", "--db", str(path)).returncode == 0
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    make_bluesky_source(
        path,
        [profile("ann", bio="hello"), profile("ben", counts=(1, -5, 0)), profile("cy")],
        [(1, "cy", "made for cy", "2024-01-01")],
    )
    return path


def test_backfill_migrates_and_ends_with_the_summary_and_the_report(
    target: Path, source: Path
) -> None:
    done = agentsdb("backfill", "bluesky-profiles", "--source", str(source), "--db", str(target))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Migrated 3 agents.\n")
    assert "skipped 1 user_agent_profile_metadata: negative follows_count" in done.stdout
    assert done.stderr == ""
    assert sqlite_file_rows(target, "SELECT COUNT(*) FROM agents") == [(3,)]


def test_backfill_dry_run_prints_the_report_and_writes_nothing(target: Path, source: Path) -> None:
    dry = agentsdb(
        "backfill", "bluesky-profiles", "--source", str(source), "--db", str(target), "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert sqlite_file_rows(target, "SELECT COUNT(*) FROM agents") == [(0,)]

    real = agentsdb(
        "backfill",
        "bluesky-profiles",
        "--source",
        str(source),
        "--db",
        str(target),
        "--batch-size",
        "2",
    )
    assert dry.stdout.splitlines()[1:-1] == real.stdout.splitlines()[1:-1]


def test_backfill_validate_prints_the_table_and_exits_1_on_an_orphan(
    target: Path, source: Path
) -> None:
    agentsdb("backfill", "bluesky-profiles", "--source", str(source), "--db", str(target))
    valid = agentsdb(
        "backfill", "bluesky-profiles", "--source", str(source), "--db", str(target), "--validate"
    )
    assert valid.returncode == 0, valid.stdout
    assert "PARITY" in valid.stdout
    assert valid.stdout.rstrip().endswith("bluesky-profiles: valid.")

    plant_in_sqlite_file(
        target,
        "INSERT INTO agent_persona_bios (agent_id, persona_bio, persona_bio_source, created_at,"
        " updated_at) VALUES ('nobody', 'x', 'ai_generated', 't', 't')",
    )
    invalid = agentsdb(
        "backfill", "bluesky-profiles", "--source", str(source), "--db", str(target), "--validate"
    )
    assert invalid.returncode == 1
    assert re.search(r"^agent_persona_bios without an agent +1$", invalid.stdout, re.MULTILINE)


def test_backfill_names_a_missing_source_table_in_one_line_and_exits_1(
    target: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    failed = agentsdb("backfill", "bluesky-profiles", "--source", str(empty), "--db", str(target))

    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1
    assert "no table 'bluesky_profiles'" in failed.stderr
    assert sqlite_file_rows(target, "SELECT COUNT(*) FROM agentsdb_job_runs") == [(0,)]


def test_backfill_reads_the_target_itself_without_source(target: Path) -> None:
    make_bluesky_source(target, [profile("dee", bio="same file")])

    done = agentsdb("backfill", "bluesky-profiles", "--db", str(target))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Migrated 1 agents.")


def test_backfill_agent_scope_refuses_one_database_for_both_sides(target: Path) -> None:
    failed = agentsdb("backfill", "agent-scope", "--db", str(target))

    assert failed.returncode == 1
    assert "--source" in failed.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["backfill", "no-such-job"],
        ["backfill", "bluesky-profiles", "--batch-size", "0"],
        ["backfill", "bluesky-profiles", "--dry-run", "--validate"],
    ],
)
def test_backfill_usage_errors_exit_2(args: list[str], target: Path) -> None:
    assert agentsdb(*args, "--db", str(target)).returncode == 2
