"""Translate asyncpg's exceptions into the agentsdb hierarchy.

Server errors carry a SQLSTATE code, which decides the class; client-side errors (asyncpg's
``InterfaceError`` and ``InternalClientError`` families), lost connections (``OSError``,
``EOFError``) and ``command_timeout`` expiries (``TimeoutError``) are wrapped too. The caller
raises the result ``from`` the original, so the asyncpg exception stays available as
``__cause__``.

A connection the server ended (``pg_terminate_backend``, a restart, a dropped network) shows up
as any of several errors depending on when asyncpg notices: a 57P01 error report, an 08xxx
"connection does not exist", a reset socket, or an ``InternalClientError`` ("cannot switch to
state ...") from its protocol state check. All become :class:`ConnectionLostError`
(:func:`translate_lost`).

Nothing here imports asyncpg until an error is being handled: server errors are recognised by
their ``sqlstate`` attribute and client errors by asyncpg's base classes.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from typing import Protocol, cast

from agentsdb.db.sql_text import with_sql
from agentsdb.db.url import obscure_password
from agentsdb.errors import (
    CheckViolationError,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionLostError,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
)

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
    InternalClientError: type[Exception]


@functools.cache
def _driver() -> _DriverClasses:
    # Only called while handling an asyncpg error, so the module is already imported.
    return cast(_DriverClasses, importlib.import_module("asyncpg"))


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
    """True for the exceptions :func:`translate` wraps: asyncpg's own, OSError (which includes
    TimeoutError and ConnectionError) and EOFError (a socket closed mid-message)."""
    if isinstance(error, OSError | EOFError):
        return True
    driver = _driver()
    if isinstance(error, driver.PostgresError | driver.InterfaceError | driver.InternalClientError):
        return True
    return type(error).__module__.startswith("asyncpg.")


def failed_before_sending(error: BaseException) -> bool:
    """True for the errors asyncpg raises before it writes anything to the socket.

    Its protocol checks that the connection is idle and open before each operation; after the
    server has ended the session that check fails, so the statement never reached the server.
    """
    driver = _driver()
    if type(error) is driver.InternalClientError:
        return str(error).startswith("cannot switch to state")
    if type(error) is driver.InterfaceError:
        return str(error) == "connection is closed"
    return False


def is_connection_lost(error: BaseException) -> bool:
    """True when the error itself says the session is gone (whatever the connection reports)."""
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in _SESSION_ENDED
    if isinstance(error, TimeoutError):
        return False
    return isinstance(error, OSError | EOFError) or failed_before_sending(error)


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
            with_sql("the statement did not finish within command_timeout and was cancelled", sql),
            sql=sql,
        )
    if is_connection_lost(error):
        return ConnectionLostError(
            with_sql(f"the connection to the PostgreSQL server was lost: {error}", sql), sql=sql
        )
    message = str(error) or type(error).__name__
    if "closed" in message or "connection was lost" in message:
        return ConnectionClosedError(with_sql(message, sql), sql=sql)
    return DatabaseError(with_sql(message, sql), sql=sql)


def translate_lost(
    error: BaseException, sql: str | None, *, in_transaction: bool, write: bool
) -> ConnectionLostError:
    """The error for a statement whose connection the server ended or the network dropped.

    ``in_transaction``: the connection was inside a transaction when the statement started.
    ``write``: the statement may change data (anything but a read-only query).
    """
    reason = str(error) or type(error).__name__
    lost = f"the connection to the PostgreSQL server was lost ({reason})"
    committing = in_transaction and sql is not None and sql.lstrip().upper().startswith("COMMIT")
    sent = not failed_before_sending(error)
    if committing and sent:
        may_have_committed = True
        consequence = "the transaction may or may not have been committed: check before retrying"
    elif in_transaction:
        may_have_committed = False
        consequence = "the server rolled the open transaction back; run it again"
    elif write and sent:
        may_have_committed = True
        consequence = "the statement may or may not have taken effect: check before retrying"
    else:
        may_have_committed = False
        consequence = "the statement did not run; run it again"
    return ConnectionLostError(
        with_sql(f"{lost}; {consequence}", sql), sql=sql, may_have_committed=may_have_committed
    )


def _translate_server_error(error: _ServerErrorFields, sql: str | None) -> DatabaseError:
    sqlstate = error.sqlstate
    detail = with_sql(_server_message(error), sql)
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
        return ConnectionLostError(detail, sql=sql)
    if sqlstate == IN_FAILED_TRANSACTION:
        return DatabaseError(
            f"{detail}; an earlier statement in this transaction failed, so PostgreSQL "
            "ignores everything until it is rolled back. To carry on after an expected "
            "error, run the statement in a nested transaction (a savepoint): "
            "async with tx.transaction() as inner: ...",
            sql=sql,
        )
    return DatabaseError(detail, sql=sql)


def translate_connect_error(
    error: BaseException, url: str, secrets: Sequence[str] = ()
) -> DatabaseError | ConfigurationError:
    """The agentsdb error for a failure to open a connection to ``url`` (password obscured).

    The driver's text goes through :func:`~agentsdb.db.url.obscure_password` with the URL's
    ``secrets``, in case it quotes one of them.
    """
    message = obscure_password(str(error) or type(error).__name__, secrets)
    if isinstance(error, ValueError):  # asyncpg's ClientConfigurationError: a malformed DSN
        return ConfigurationError(f"invalid PostgreSQL URL {url!r}: {message}")
    if isinstance(error, TimeoutError):
        message = "no answer within connect_timeout"
    return DatabaseError(f"cannot connect to PostgreSQL at {url!r}: {message}")


__all__ = [
    "failed_before_sending",
    "is_connection_lost",
    "is_driver_error",
    "leaves_connection_unusable",
    "translate",
    "translate_connect_error",
    "translate_lost",
]
