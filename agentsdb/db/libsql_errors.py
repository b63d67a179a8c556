"""Translate libsql-client errors into the agentsdb hierarchy.

libsql-client raises ``LibsqlError`` with a string ``code``. Servers differ in how precise that
code is: SQLite's extended names (``SQLITE_CONSTRAINT_UNIQUE``) or only the primary one
(``SQLITE_CONSTRAINT``, as the sqld sources send it, with SQLite's message such as "UNIQUE
constraint failed: agents.name"). Both are mapped to the same classes. Failures to reach the
server escape the client as raw aiohttp or OS errors; :func:`translate_connection_error` wraps
those. Callers raise the result ``from`` the original so it stays available as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.sqlite_errors import constraint_of, shorten_sql
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
# With only the primary code, SQLite's message says which constraint failed.
_CONSTRAINT_MESSAGES: tuple[tuple[str, type[IntegrityError]], ...] = (
    ("UNIQUE constraint failed", UniqueViolationError),
    ("FOREIGN KEY constraint failed", ForeignKeyViolationError),
    ("CHECK constraint failed", CheckViolationError),
    ("NOT NULL constraint failed", CheckViolationError),
)
_BUSY_PREFIXES = ("SQLITE_BUSY", "SQLITE_LOCKED")
# sqld answers TRANSACTION_BUSY when it cannot take another transaction right now.
_BUSY_CODES = frozenset({"TRANSACTION_BUSY"})
# The client's own codes for a connection, stream or transaction that is gone.
_CLOSED_CODES = frozenset(
    {"CLIENT_CLOSED", "STREAM_CLOSED", "TRANSACTION_CLOSED", "HRANA_WEBSOCKET_ERROR"}
)


def _integrity_class(code: str, message: str) -> type[IntegrityError] | None:
    if code in _UNIQUE_CODES:
        return UniqueViolationError
    if code in _FOREIGN_KEY_CODES:
        return ForeignKeyViolationError
    if code in _CHECK_CODES:
        return CheckViolationError
    if code == "SQLITE_CONSTRAINT":
        for marker, cls in _CONSTRAINT_MESSAGES:
            if marker in message:
                return cls
        return IntegrityError
    if code.startswith("SQLITE_CONSTRAINT_"):
        return IntegrityError
    return None


def translate_libsql_error(code: str, message: str, sql: str | None = None) -> DatabaseError:
    """Return the agentsdb error for a ``LibsqlError``'s code and message."""
    shown = shorten_sql(sql)
    detail = f"{code}: {message}"
    detail = f"{detail} (in: {shown})" if shown else detail
    integrity = _integrity_class(code, message)
    if integrity is not None:
        return integrity(detail, sql=sql, constraint=constraint_of(message))
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


__all__ = ["translate_connection_error", "translate_libsql_error"]
