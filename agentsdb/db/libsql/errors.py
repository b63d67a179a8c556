"""Translate libsql-client errors into the agentsdb hierarchy.

libsql-client raises ``LibsqlError`` with a string ``code``. Servers differ in how precise that
code is: SQLite's extended names (``SQLITE_CONSTRAINT_UNIQUE``) or only the primary one
(``SQLITE_CONSTRAINT``, as the sqld sources send it, with SQLite's message such as "UNIQUE
constraint failed: agents.name"). Both are mapped to the same classes. Failures to reach the
server escape the client as raw aiohttp or OS errors; :func:`translate_connection_error` wraps
those. Callers raise the result ``from`` the original so it stays available as ``__cause__``.
sqld sends only primary codes (measured on 0.24.32), so constraint errors are classified by
SQLite's message, which also names the constraint (or the table and column).
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.sql_text import with_sql
from agentsdb.db.sqlite.errors import constraint_of
from agentsdb.db.url import obscure_password
from agentsdb.errors import (
    CheckViolationError,
    ConnectionClosedError,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    IntegrityError,
    UniqueViolationError,
)

_UNIQUE_CODES = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
_FOREIGN_KEY_CODES = frozenset({"SQLITE_CONSTRAINT_FOREIGNKEY"})
_CHECK_CODES = frozenset({"SQLITE_CONSTRAINT_CHECK", "SQLITE_CONSTRAINT_NOTNULL"})
# With only the primary code, SQLite's message says which constraint failed (and so which
# extended code SQLite had: errors read the same whichever code the server sent).
_CONSTRAINT_MESSAGES: tuple[tuple[str, type[IntegrityError], str], ...] = (
    ("UNIQUE constraint failed", UniqueViolationError, "SQLITE_CONSTRAINT_UNIQUE"),
    ("FOREIGN KEY constraint failed", ForeignKeyViolationError, "SQLITE_CONSTRAINT_FOREIGNKEY"),
    ("CHECK constraint failed", CheckViolationError, "SQLITE_CONSTRAINT_CHECK"),
    ("NOT NULL constraint failed", CheckViolationError, "SQLITE_CONSTRAINT_NOTNULL"),
)
_BUSY_PREFIXES = ("SQLITE_BUSY", "SQLITE_LOCKED")
# sqld answers TRANSACTION_BUSY when it cannot take another transaction right now.
_BUSY_CODES = frozenset({"TRANSACTION_BUSY"})
#: sqld rolls back a transaction that holds the write lock for longer than it allows (5 s in
#: sqld 0.24) while another connection waits for it, and answers this to the holder's next
#: request; the request after that finds no transaction at all.
TRANSACTION_TIMEOUT = "TRANSACTION_TIMEOUT"
# The client's own codes for a connection, stream or transaction that is gone.
_CLOSED_CODES = frozenset(
    {"CLIENT_CLOSED", "STREAM_CLOSED", "TRANSACTION_CLOSED", "HRANA_WEBSOCKET_ERROR"}
)


def _integrity_class(code: str, message: str) -> tuple[type[IntegrityError], str] | None:
    """The class of a constraint failure and its extended code, or None for other errors."""
    if code in _UNIQUE_CODES:
        return UniqueViolationError, code
    if code in _FOREIGN_KEY_CODES:
        return ForeignKeyViolationError, code
    if code in _CHECK_CODES:
        return CheckViolationError, code
    if code == "SQLITE_CONSTRAINT":
        for marker, cls, extended in _CONSTRAINT_MESSAGES:
            if marker in message:
                return cls, extended
        return IntegrityError, code
    if code.startswith("SQLITE_CONSTRAINT_"):
        return IntegrityError, code
    return None


def _detail(code: str, message: str, sql: str | None) -> str:
    return with_sql(f"{code}: {message}", sql)


def translate_libsql_error(code: str, message: str, sql: str | None = None) -> DatabaseError:
    """Return the agentsdb error for a ``LibsqlError``'s code and message."""
    integrity = _integrity_class(code, message)
    if integrity is not None:
        cls, extended = integrity
        return cls(_detail(extended, message, sql), sql=sql, constraint=constraint_of(message))
    detail = _detail(code, message, sql)
    if code == TRANSACTION_TIMEOUT:
        return DatabaseBusyError(
            f"{detail}; the server rolled this transaction back because it held the write lock "
            "for longer than the server allows while another connection waited (sqld: 5 s); "
            "nothing of it was kept: retry it, and keep transactions short",
            sql=sql,
        )
    if code.startswith(_BUSY_PREFIXES) or code in _BUSY_CODES:
        return DatabaseBusyError(
            f"{detail}; another connection holds the write lock (retry, or make the server's "
            "busy timeout longer)",
            sql=sql,
        )
    if code in _CLOSED_CODES:
        return ConnectionClosedError(
            f"{detail}; the connection to the libSQL server is closed or was lost", sql=sql
        )
    if code.startswith("AUTH"):
        return DatabaseError(f"{detail}; check the auth_token option", sql=sql)
    return DatabaseError(detail, sql=sql)


def translate_connection_error(
    error: BaseException, url: str, sql: str | None = None, secrets: Sequence[str] = ()
) -> DatabaseError:
    """Return the agentsdb error for a failure to reach or talk to the server.

    The client's text (which may quote the URL it requested) is masked with ``secrets``.
    """
    reason = obscure_password(str(error) or type(error).__name__, secrets)
    return DatabaseError(
        f"cannot reach the libSQL server at {url}, or it dropped the connection: {reason}; "
        "check the URL and that the server is running",
        sql=sql,
    )


__all__ = ["TRANSACTION_TIMEOUT", "translate_connection_error", "translate_libsql_error"]
