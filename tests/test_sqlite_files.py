"""The SQLite database file: errors that name it (cannot open, disk full, not a database,
read-only), a clean exit when it cannot be opened, and owner-only permissions for new files.

The full-disk tests use a real, tiny tmpfs mounted for the test (this needs root, which the
test machine has; elsewhere they skip) and, everywhere, ``PRAGMA max_page_count``, which makes
SQLite report the same SQLITE_FULL a full disk does.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentsdb
from agentsdb import AgentsDBError, DatabaseFileError, DiskFullError, MigrationError

RUNS = 8


def find_in_chain(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, kind):
            return current
        current = current.__cause__
    return None


# --- files that cannot be opened -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "reason"),
    [("missing-folder", "does not exist"), ("directory", "is a directory")],
)
async def test_a_path_that_cannot_be_opened_raises_naming_the_file_and_why(
    tmp_path: Path, where: str, reason: str
) -> None:
    path = tmp_path / "no" / "such" / "folder" / "x.db" if where == "missing-folder" else tmp_path
    with pytest.raises(DatabaseFileError, match=reason) as caught:
        await agentsdb.connect(str(path))
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.Error)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentsdb", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_prints_one_error_line_and_nothing_from_the_driver_thread(tmp_path: Path) -> None:
    targets = [str(tmp_path / "missing" / "x.db"), str(tmp_path)]
    for run in range(RUNS):
        target = targets[run % 2]
        result = run_cli("status", "--db", target)
        assert result.returncode != 0
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: cannot open SQLite database")
        assert target in lines[0]
        assert "Traceback" not in result.stderr
        assert "RuntimeError" not in result.stderr


def test_python_open_failures_leave_no_driver_thread_behind(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, threading, agentsdb

        async def fail() -> None:
            try:
                await agentsdb.connect({str(tmp_path / "missing" / "x.db")!r})
            except agentsdb.DatabaseFileError as error:
                print(type(error).__name__)

        for _ in range(50):
            asyncio.run(fail())
        print(threading.active_count())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.split()
    assert lines[:-1] == ["DatabaseFileError"] * 50
    assert lines[-1] == "1"  # every aiosqlite worker thread has ended


# --- errors about the file -----------------------------------------------------------------------


async def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(DatabaseFileError, match="is not a SQLite database") as caught:
        await agentsdb.connect(str(path))
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)


async def test_a_write_to_a_read_only_database_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    async with agentsdb.connect(str(path)) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
    async with agentsdb.connect(f"file:{path}?mode=ro") as db:
        with pytest.raises(DatabaseFileError, match="read-only") as caught:
            await db.execute("INSERT INTO t VALUES (1)")
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)


async def test_a_database_at_its_max_page_count_raises_disk_full_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "capped.db"
    async with agentsdb.connect(str(path)) as db:
        await db.execute("CREATE TABLE t (x BLOB)")
        await db.execute("PRAGMA max_page_count = 8")
        with pytest.raises(DiskFullError) as caught:
            await db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        assert caught.value.path == str(path)
        assert str(path) in str(caught.value)
        assert "max_page_count" in str(caught.value)
        # The database is still usable.
        await db.execute("INSERT INTO t VALUES (zeroblob(10))")


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 128 KiB tmpfs mounted for the test (root only), unmounted afterwards."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def grow(mount_point: Path) -> None:
    """Give the small filesystem room: 4 MiB."""
    subprocess.run(["mount", "-o", "remount,size=4m", str(mount_point)], check=True, timeout=30)


@pytest.mark.parametrize("left_free_kib", [128, 16], ids=["grows-full", "nearly-full-at-start"])
async def test_migrate_on_a_full_disk_says_the_disk_is_full_and_which_file(
    small_filesystem: Path, left_free_kib: int
) -> None:
    filler = small_filesystem / "filler"
    filler.write_bytes(b"\0" * ((128 - left_free_kib) * 1024))
    path = small_filesystem / "agents.db"
    with pytest.raises(AgentsDBError) as caught:
        async with agentsdb.connect(str(path)) as db:
            await agentsdb.Migrator(db).migrate()
    full = find_in_chain(caught.value, DiskFullError)
    assert isinstance(full, DiskFullError), repr(caught.value)
    assert full.path == str(path)
    assert "the disk is full" in str(caught.value)
    assert str(path) in str(caught.value)
    if isinstance(caught.value, MigrationError):
        assert caught.value.failed is not None
    # With room again (the filesystem grown, as an operator would free space), it migrates.
    filler.unlink()
    grow(small_filesystem)
    async with agentsdb.connect(str(path)) as db:
        await agentsdb.Migrator(db).migrate()


# --- permissions ---------------------------------------------------------------------------------


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (FileNotFoundError if it does not exist)."""
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
async def test_a_new_database_and_its_wal_and_shm_files_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "private.db"
    async with agentsdb.connect(str(path)) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        await db.execute("INSERT INTO t VALUES (1)")
        modes = [mode_of(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm")]
    assert modes == [0o600, 0o600, 0o600]


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_database_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    sqlite3.connect(path).close()
    path.chmod(0o640)
    async with agentsdb.connect(str(path)) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        await db.execute("INSERT INTO t VALUES (1)")
    assert mode_of(path) == 0o640
