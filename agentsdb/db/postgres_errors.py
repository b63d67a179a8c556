"""Translate asyncpg's exceptions into the agentsdb hierarchy.

Server errors carry a SQLSTATE code, which decides the class; client-side errors (asyncpg's
``InterfaceError`` family), lost connections (``OSError``) and ``command_timeout`` expiries
(``TimeoutError``) are wrapped too. The caller raises the result ``from`` the original, so the
asyncpg exception stays available as ``__cause__``.

Nothing here imports asyncpg: server errors are recognised by their ``sqlstate`` attribute and
client errors by the asyncpg classes handed to :func:`translate`.
"""

from __future__ import annotations

import functools
import importlib
from typing import Protocol, cast

from agentsdb.errors import (
    CheckViolationError,
    ConfigurationError,
    ConnectionClosedError,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
)

_SQL_SHOWN = 200

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
NOT_NULL_VIOLATION = "23502"
IN_FAILED_TRANSACTION = "25P02"

# Another transaction held a lock too long (lock_timeout, NOWAIT), a deadlock was broken, or a
# serializable transaction lost a conflict: all three mean "retry later", like SQLITE_BUSY.
_BUSY = frozenset({"40P01", "55P03", "40001"})
# The server closed the session: shutdown, crash recovery, or pg_terminate_backend().
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


class _ServerErrorFields(Protocol):
    """The attributes asyncpg's PostgresError carries (from the server's error report)."""

    sqlstate: str
    message: str
    detail: str | None
    hint: str | None
    constraint_name: str | None
    table_name: str | None
    column_name: str | None


class _DriverClasses(Protocol):
    PostgresError: type[Exception]
    InterfaceError: type[Exception]


@functools.cache
def _driver() -> _DriverClasses:
    # Only called while handling an asyncpg error, so the module is already imported.
    return cast(_DriverClasses, importlib.import_module("asyncpg"))


def _shorten(sql: str | None) -> str:
    if sql is None:
        return ""
    flat = " ".join(sql.split())
    return flat if len(flat) <= _SQL_SHOWN else flat[:_SQL_SHOWN] + "…"


def _with_sql(message: str, sql: str | None) -> str:
    shown = _shorten(sql)
    return f"{message} (in: {shown})" if shown else message


#: How much of a server error's detail a message shows.
_DETAIL_SHOWN = 100


def _server_message(fields: _ServerErrorFields) -> str:
    # Errors asyncpg raises itself (such as a connection dropped mid-statement) have no
    # server message, only the exception's text.
    parts = [fields.message or str(fields)]
    if fields.detail:
        # The detail may quote a key value ("Key (id)=(...) already exists"): a short prefix.
        detail = fields.detail
        parts.append(detail if len(detail) <= _DETAIL_SHOWN else detail[:_DETAIL_SHOWN] + "…")
    if fields.hint:
        parts.append(f"hint: {fields.hint}")
    return "; ".join(parts)


def is_driver_error(error: BaseException) -> bool:
    """True for the exceptions :func:`translate` wraps: asyncpg's, OSError, TimeoutError."""
    if isinstance(error, OSError):  # includes TimeoutError and ConnectionError
        return True
    driver = _driver()
    return isinstance(error, driver.PostgresError | driver.InterfaceError)


def leaves_connection_unusable(error: BaseException) -> bool:
    """True when the connection must not go back to the pool after this error.

    A server error leaves the connection healthy (an open transaction only needs a ROLLBACK).
    After a client-side failure, a timeout or a lost connection its state is unknown.
    """
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in _SESSION_ENDED
    return is_driver_error(error) and not isinstance(error, ValueError)


def translate(error: BaseException, sql: str | None = None) -> DatabaseError:
    """The agentsdb error for an asyncpg (or socket) error; raise it ``from`` the original."""
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and hasattr(error, "message"):
        return _translate_server_error(cast(_ServerErrorFields, error), sql)
    if isinstance(error, TimeoutError):
        return DatabaseError(
            _with_sql("the statement did not finish within command_timeout and was cancelled", sql),
            sql=sql,
        )
    if isinstance(error, OSError):
        return ConnectionClosedError(
            _with_sql(f"the connection to the PostgreSQL server was lost: {error}", sql), sql=sql
        )
    message = str(error)
    if "closed" in message or "connection was lost" in message:
        return ConnectionClosedError(_with_sql(message, sql), sql=sql)
    return DatabaseError(_with_sql(message, sql), sql=sql)


def _translate_server_error(error: _ServerErrorFields, sql: str | None) -> DatabaseError:
    sqlstate = error.sqlstate
    detail = _with_sql(_server_message(error), sql)
    if sqlstate.startswith("23"):
        constraint = error.constraint_name
        if sqlstate == UNIQUE_VIOLATION:
            return UniqueViolationError(detail, sql=sql, constraint=constraint)
        if sqlstate == FOREIGN_KEY_VIOLATION:
            return ForeignKeyViolationError(detail, sql=sql, constraint=constraint)
        if sqlstate == NOT_NULL_VIOLATION:
            # No constraint name for NOT NULL; name the column the way SQLite does: table.column.
            if constraint is None and error.column_name:
                table = f"{error.table_name}." if error.table_name else ""
                constraint = f"{table}{error.column_name}"
            return CheckViolationError(detail, sql=sql, constraint=constraint)
        if sqlstate == CHECK_VIOLATION:
            return CheckViolationError(detail, sql=sql, constraint=constraint)
        return IntegrityError(detail, sql=sql, constraint=constraint)
    if sqlstate in _BUSY:
        return DatabaseBusyError(
            f"{detail}; another transaction holds the lock (retry, or raise lock_timeout to "
            "wait longer)",
            sql=sql,
        )
    if sqlstate.startswith("08") or sqlstate in _SESSION_ENDED:
        return ConnectionClosedError(detail, sql=sql)
    if sqlstate == IN_FAILED_TRANSACTION:
        return DatabaseError(
            f"{detail}; an earlier statement in this transaction failed, so PostgreSQL "
            "ignores everything until it is rolled back. To carry on after an expected "
            "error, run the statement in a nested transaction (a savepoint): "
            "async with tx.transaction() as inner: ...",
            sql=sql,
        )
    return DatabaseError(detail, sql=sql)


def translate_connect_error(error: BaseException, url: str) -> DatabaseError | ConfigurationError:
    """The agentsdb error for a failure to open a connection to ``url`` (password obscured)."""
    if isinstance(error, ValueError):  # asyncpg's ClientConfigurationError: a malformed DSN
        return ConfigurationError(f"invalid PostgreSQL URL {url!r}: {error}")
    message = str(error) or type(error).__name__
    if isinstance(error, TimeoutError):
        message = "no answer within connect_timeout"
    return DatabaseError(f"cannot connect to PostgreSQL at {url!r}: {message}")


__all__ = [
    "is_driver_error",
    "leaves_connection_unusable",
    "translate",
    "translate_connect_error",
]
