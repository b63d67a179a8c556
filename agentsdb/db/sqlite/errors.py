"""Translate :mod:`sqlite3` exceptions into the agentsdb hierarchy."""

from __future__ import annotations

import sqlite3

from agentsdb.db.sql_text import with_sql
from agentsdb.db.sqlite.files import file_error
from agentsdb.errors import (
    CheckViolationError,
    ConnectionClosedError,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
)

_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNIQUE_NAMES = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
_CHECK_NAMES = frozenset({"SQLITE_CONSTRAINT_CHECK", "SQLITE_CONSTRAINT_NOTNULL"})


def constraint_of(message: str) -> str | None:
    """The constraint SQLite names in a constraint error message, if any."""
    # "UNIQUE constraint failed: agents.handle" / "CHECK constraint failed: status_valid"
    _, sep, tail = message.partition("constraint failed: ")
    return tail.strip() or None if sep else None


def is_busy(error: sqlite3.Error) -> bool:
    """True when the error means another connection holds the lock."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    return "locked" in str(error) or "busy" in str(error)


def translate(
    error: sqlite3.Error | UnicodeEncodeError, sql: str | None = None, *, path: str | None = None
) -> DatabaseError:
    """Return the agentsdb error for a sqlite3 error; the caller raises it ``from`` the original.

    A parameter sqlite3 cannot encode as UTF-8 (a lone surrogate) is a DatabaseError too, as
    the other drivers report it; the message does not repeat the parameter. ``path`` is the
    database file's: an error about the file (full disk, read-only, not a database, I/O error)
    names it (:mod:`agentsdb.db.sqlite.files`).
    """
    if isinstance(error, UnicodeEncodeError):
        problem = f"a parameter is not valid Unicode text ({error.reason})"
        return DatabaseError(with_sql(problem, sql), sql=sql)
    message = str(error)
    detail = with_sql(message, sql)
    if path is not None:
        about_file = file_error(error, detail, sql, path)
        if about_file is not None:
            return about_file
    if isinstance(error, sqlite3.IntegrityError):
        name = getattr(error, "sqlite_errorname", "")
        constraint = constraint_of(message)
        if name in _UNIQUE_NAMES:
            return UniqueViolationError(detail, sql=sql, constraint=constraint)
        if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return ForeignKeyViolationError(detail, sql=sql, constraint=constraint)
        if name in _CHECK_NAMES:
            return CheckViolationError(detail, sql=sql, constraint=constraint)
        return IntegrityError(detail, sql=sql, constraint=constraint)
    if isinstance(error, sqlite3.ProgrammingError) and "closed" in message:
        return ConnectionClosedError(detail, sql=sql)
    if is_busy(error):
        return DatabaseBusyError(
            f"{detail}; another connection holds the write lock "
            "(raise busy_timeout to wait longer)",
            sql=sql,
        )
    return DatabaseError(detail, sql=sql)
