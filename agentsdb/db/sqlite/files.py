"""The SQLite database file: where it is, creating it private, and errors that name it.

SQLite reports a full disk, an unwritable file or a file that is not a database with short
messages that name no file ("database or disk is full", "disk I/O error", "file is not a
database"). The errors built here say what is wrong and with which file. SQLite keeps two
companion files beside a database in WAL mode, ``-wal`` and ``-shm``; a write may fail in
either, so messages name the database file and mention them.

A full disk shows up either as ``SQLITE_FULL`` or, when the ``-shm`` file or the WAL cannot
grow, as one of the ``SQLITE_IOERR`` variants ("disk I/O error"). SQLite does not report the
operating system's error number, so an I/O error counts as a full disk when the filesystem
holding the file has less than :data:`NEARLY_FULL_BYTES` free.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from urllib.parse import unquote, urlsplit

from agentsdb.db.url import obscure_password
from agentsdb.errors import DatabaseError, DatabaseFileError, DiskFullError

#: Below this much free space, an I/O error while writing is taken to be a full disk.
NEARLY_FULL_BYTES = 1024 * 1024

# New database files are readable and writable by their owner only. SQLite gives the -wal and
# -shm files it creates the permissions of the database file, so they follow.
_PRIVATE_MODE = 0o600

_FULL = sqlite3.SQLITE_FULL
_IOERR = sqlite3.SQLITE_IOERR
_NOT_A_DATABASE = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_READ_ONLY = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM})
_CANNOT_OPEN = sqlite3.SQLITE_CANTOPEN


def file_path(database: str, *, uri: bool, in_memory: bool) -> str | None:
    """The absolute path of the database file, or None for an in-memory database."""
    if in_memory:
        return None
    if not uri:
        return os.path.abspath(database)
    # file:relative.db?mode=rwc, file:///abs/path.db, file://localhost/abs/path.db
    path = unquote(urlsplit(database).path)
    return os.path.abspath(path) if path else None


def _uri_mode(database: str) -> str | None:
    for part in urlsplit(database).query.split("&"):
        key, _, value = part.partition("=")
        if key == "mode":
            return value
    return None


def create_private(database: str, path: str | None, *, uri: bool) -> bool:
    """Create the database file empty with owner-only permissions if it does not exist yet.

    Returns True when this call created it. An existing file keeps its permissions. A missing
    folder or any other failure is left for SQLite to report when it opens the file.
    """
    if path is None or (uri and _uri_mode(database) not in (None, "rwc")):
        return False
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    except OSError:
        return False
    os.close(descriptor)
    return True


def require_existing(path: str | None, shown: str) -> None:
    """Raise DatabaseFileError naming the file when ``path`` does not exist (``create=False``).

    An in-memory database (``path`` None) always exists. The error quotes the URL as given
    (``shown``) and the absolute path it resolved to, so a typo or a wrong working folder shows.
    """
    if path is None or os.path.exists(path):
        return
    as_given = "" if os.path.abspath(shown) == path else f" ({shown!r})"
    raise DatabaseFileError(
        f"the SQLite database file {obscure_password(path)!r}{as_given} does not exist; "
        "nothing was created (only `migrate` creates a database)",
        path=path,
    )


def remove_created(path: str | None) -> None:
    """Remove the empty file :func:`create_private` made when opening it failed after all."""
    if path is not None:
        with contextlib.suppress(OSError):
            if os.path.getsize(path) == 0:
                os.remove(path)


def _why_not_openable(path: str) -> str | None:
    """What the filesystem says is wrong with ``path`` as a database file, if anything."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        return f"the folder {folder!r} does not exist"
    if os.path.isdir(path):
        return "it is a directory, not a file"
    if os.path.exists(path):
        if not os.access(path, os.R_OK):
            return "this user may not read the file"
        if not os.access(path, os.W_OK):
            return "the file is read-only for this user"
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"this user may not create files in the folder {folder!r}"
    return None


def open_error(error: sqlite3.Error, path: str | None, shown: str) -> DatabaseError:
    """The error for a database that could not be opened; ``shown`` is the URL as given."""
    if path is None:
        return DatabaseError(f"cannot open SQLite database {shown!r}: {error}")
    reason = obscure_password(_why_not_openable(path) or str(error))
    return DatabaseFileError(f"cannot open SQLite database {shown!r}: {reason}", path=path)


def _free_bytes(path: str) -> int | None:
    try:
        stats = os.statvfs(os.path.dirname(path) or ".")
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def file_error(
    error: sqlite3.Error, detail: str, sql: str | None, path: str
) -> DatabaseError | None:
    """The error naming the file, for a sqlite3 error about the database file; else None.

    ``detail`` is SQLite's message with the statement appended.
    """
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    name = getattr(error, "sqlite_errorname", "")
    shown = obscure_password(path)
    files = f"the database file {shown!r} (or its -wal/-shm files)"
    if primary in (_FULL, _IOERR):
        if primary == _IOERR and name:
            detail = f"{name}: {detail}"
        free = _free_bytes(path)
        if free is not None and free < NEARLY_FULL_BYTES:
            return DiskFullError(
                f"the disk is full: cannot write to {files}, the filesystem holding it has "
                f"{_size(free)} free. Free some space and retry. SQLite said: {detail}",
                path=path,
                sql=sql,
            )
        if primary == _FULL:
            room = "" if free is None else f" (the disk has {_size(free)} free)"
            return DiskFullError(
                f"{files} is full: the database reached its max_page_count{room}. "
                f"SQLite said: {detail}",
                path=path,
                sql=sql,
            )
        return DatabaseFileError(
            f"disk I/O error on {files}; check the disk and the file. SQLite said: {detail}",
            path=path,
            sql=sql,
        )
    if primary in _NOT_A_DATABASE:
        return DatabaseFileError(
            f"the file {shown!r} is not a SQLite database, or it is damaged. SQLite said: {detail}",
            path=path,
            sql=sql,
        )
    if primary in _READ_ONLY:
        return DatabaseFileError(
            f"cannot write to {files}: it is read-only for this process (check the "
            f"permissions of the file and its folder, where SQLite creates the -wal and -shm "
            f"files). SQLite said: {detail}",
            path=path,
            sql=sql,
        )
    if primary == _CANNOT_OPEN:
        reason = _why_not_openable(path)
        because = f": {reason}" if reason else ""
        return DatabaseFileError(
            f"cannot open {files}{because}. SQLite said: {detail}", path=path, sql=sql
        )
    return None


__all__ = [
    "NEARLY_FULL_BYTES",
    "create_private",
    "file_error",
    "file_path",
    "open_error",
    "remove_created",
    "require_existing",
]
