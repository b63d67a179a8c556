"""The command line's no-op ``migrate`` is proved by one read-only query without an event loop
(agentsdb.cli_noop, agentsdb.db.peek); whatever it cannot prove goes to the full command, which
gives the same answers as before."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import applied_ids, run_cli, write_migration

from agentsdb.db.peek import peek
from agentsdb.folder_digest import CACHE_NAME, folder_digest, listing_key
from agentsdb.migration import Migration
from agentsdb.migrations import load_migrations
from agentsdb.migrator.plan import chain_of

HEAD = "SELECT count(*) AS n FROM agentsdb_migrations"


def migrated(tmp_path: Path, *args: str) -> Path:
    result = run_cli("migrate", "--db", "x.db", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "x.db"


def test_the_no_op_prints_what_the_full_command_prints(tmp_path: Path) -> None:
    migrated(tmp_path)
    quick = run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    # --fail-on-drift needs the schema read, so it always runs the full command.
    full = run_cli("migrate", "--db", "x.db", "--fail-on-drift", cwd=tmp_path)
    assert quick.returncode == full.returncode == 0
    assert quick.stdout == full.stdout
    assert quick.stdout.startswith("Nothing to migrate; the database is at version ")


def test_a_migration_added_to_the_folder_is_applied(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_migration(
        folder,
        "001",
        "migration = Migration(id='001', description='a', up=['CREATE TABLE a (x)'])\n",
    )
    migrated(tmp_path, "--dir", str(folder))
    write_migration(
        folder,
        "002",
        "migration = Migration(id='002', description='b', up=['CREATE TABLE b (x)'])\n",
    )
    result = run_cli("migrate", "--db", "x.db", "--dir", str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert applied_ids(tmp_path / "x.db") == ["001", "002"]


def test_an_applied_migration_edited_in_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_migration(
        folder,
        "001",
        "migration = Migration(id='001', description='a', up=['CREATE TABLE a (x)'])\n",
    )
    migrated(tmp_path, "--dir", str(folder))
    write_migration(
        folder,
        "001",
        "migration = Migration(id='001', description='a', up=['CREATE TABLE a (y)'])\n",
    )
    result = run_cli("migrate", "--db", "x.db", "--dir", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    assert "checksum" in result.stderr


def test_a_dirty_newest_row_is_refused(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE agentsdb_migrations SET success = 0 "
            "WHERE seq = (SELECT MAX(seq) FROM agentsdb_migrations)"
        )
    result = run_cli("migrate", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "repair" in result.stderr


def test_a_tracking_table_of_an_older_version_is_still_upgraded(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE agentsdb_migrations DROP COLUMN down_checksum")
    assert run_cli("migrate", "--db", "x.db", cwd=tmp_path).returncode == 0
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(agentsdb_migrations)")}
    assert "down_checksum" in columns


def test_peek_reads_an_existing_sqlite_file(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    found = peek(str(path), lambda dialect: [(HEAD, {})])
    assert found is not None
    dialect, [[row]] = found
    assert dialect == "sqlite"
    assert row["n"] == len(applied_ids(path))


def test_peek_leaves_a_missing_file_missing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert peek(str(missing), lambda dialect: [(HEAD, {})]) is None
    assert not missing.exists()


def test_peek_declines_server_urls_and_failing_queries(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    assert peek("postgresql://localhost/x", lambda dialect: [(HEAD, {})]) is None
    assert peek(str(path), lambda dialect: [("SELECT * FROM no_such_table", {})]) is None


# --- the digest cache of a migrations folder (agentsdb.folder_digest) -----------------------------


def run_caching(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line as an installed package runs it: with bytecode (and digest) caching."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("AGENTSDB_URL", "PYTHONDONTWRITEBYTECODE")
    }
    return subprocess.run(
        [sys.executable, "-m", "agentsdb", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_table(number: str, column: str) -> str:
    return (
        f"migration = Migration(id={number!r}, description='t', "
        f"up=['CREATE TABLE t{number} ({column})'])\n"
    )


def test_a_cached_no_op_still_refuses_an_edited_migration(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_migration(folder, "001", one_table("001", "x"))
    assert run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path).returncode == 0
    assert run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path).returncode == 0
    assert (folder / "__pycache__" / CACHE_NAME).exists()
    write_migration(folder, "001", one_table("001", "edited"))
    result = run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path)
    assert result.returncode == 1
    assert "checksum" in result.stderr


def test_the_listing_key_changes_on_a_same_size_edit_with_the_old_mtime(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_migration(folder, "001", one_table("001", "x"))
    module = folder / "001_step.py"
    before, key = module.stat(), listing_key(str(folder))
    time.sleep(0.05)
    write_migration(folder, "001", one_table("001", "y"))
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert module.stat().st_size == before.st_size
    assert listing_key(str(folder)) != key  # the status-change time cannot be set back


def test_a_cached_no_op_notices_a_removed_migration(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    write_migration(folder, "001", one_table("001", "x"))
    (folder / "002_more.py").write_text(
        "from agentsdb.migration import Migration\n" + one_table("002", "x"), encoding="utf-8"
    )
    assert run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path).returncode == 0
    assert run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path).returncode == 0
    (folder / "002_more.py").unlink()
    result = run_caching("migrate", "--db", "x.db", "--dir", "m", cwd=tmp_path)
    assert result.returncode == 1
    assert "002" in result.stderr


def test_the_folder_digest_is_loaded_once_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder = tmp_path / "m"
    write_migration(folder, "001", one_table("001", "x"))
    loads: list[str] = []

    def load(where: str) -> list[Migration]:
        loads.append(where)
        return load_migrations(where)

    first = folder_digest(str(folder), "sqlite", load)
    second = folder_digest(str(folder), "sqlite", load)
    assert first == second == (chain_of(load_migrations(folder), "sqlite"), 1, "001")
    assert loads == [str(folder)]
    (folder / "notes.sql").write_text("-- read by nobody", encoding="utf-8")
    assert folder_digest(str(folder), "sqlite", load) == first
    assert len(loads) == 2  # any change under the folder, not only to a module, reloads


def test_the_folder_digest_is_not_written_when_bytecode_caching_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    folder = tmp_path / "m"
    write_migration(folder, "001", one_table("001", "x"))
    folder_digest(str(folder), "sqlite", load_migrations)
    assert not (folder / "__pycache__" / CACHE_NAME).exists()
