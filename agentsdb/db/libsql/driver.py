"""libsql-client, loaded when a libSQL URL is opened, and conversions to and from it.

libsql-client ships no type information, so the backend talks to it through the small
protocols below, and imports it (and aiohttp, which it depends on) only when a database opens.
"""

from __future__ import annotations

import datetime
import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, cast
from urllib.parse import urlsplit

from agentsdb.db.base import ExecuteResult, Params, Row
from agentsdb.db.libsql.errors import TRANSACTION_TIMEOUT
from agentsdb.db.placeholders import translate as translate_placeholders
from agentsdb.errors import ConfigurationError, DatabaseError, UnsupportedBackendError

Transport = Literal["ws", "http"]
DriverArgs: TypeAlias = dict[str, Any] | None

_MIN_INTEGER = -(2**63)
_MAX_INTEGER = 2**63 - 1

# --- the parts of libsql-client this module uses -------------------------------------------------


class DriverRow(Protocol):
    def asdict(self) -> dict[str, Any]: ...
    def astuple(self) -> tuple[Any, ...]: ...


class DriverResultSet(Protocol):
    @property
    def rows(self) -> Sequence[DriverRow]: ...

    @property
    def rows_affected(self) -> int: ...

    @property
    def last_insert_rowid(self) -> int | None: ...


class DriverRunner(Protocol):
    """What runs a statement: the client itself, or one of its transactions."""

    async def execute(self, stmt: str, args: DriverArgs = None) -> DriverResultSet: ...


class DriverTransaction(DriverRunner, Protocol):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class DriverClient(DriverRunner, Protocol):
    async def batch(self, stmts: list[tuple[str, DriverArgs]]) -> list[DriverResultSet]: ...

    def transaction(self) -> DriverTransaction: ...

    async def close(self) -> None: ...


class DriverModule(Protocol):
    LibsqlError: type[Exception]

    def create_client(self, url: str, *, auth_token: str | None = None) -> DriverClient: ...


@dataclass(frozen=True, slots=True)
class Driver:
    module: DriverModule
    libsql_error: type[Exception]
    # What escapes the client when the server cannot be reached or the socket breaks.
    connection_errors: tuple[type[BaseException], ...]


def load_driver(url: str) -> Driver:
    try:
        module = importlib.import_module("libsql_client")
        aiohttp = importlib.import_module("aiohttp")
    except ImportError as error:
        raise UnsupportedBackendError(
            url,
            "the libSQL backend needs libsql-client, which is not installed: "
            "pip install 'agentsdb[libsql]'",
        ) from error
    driver = cast(DriverModule, module)
    client_error = cast(type[BaseException], aiohttp.ClientError)
    return Driver(driver, driver.LibsqlError, (client_error, OSError))


# --- conversions ---------------------------------------------------------------------------------


def transport_of(url: str) -> Transport:
    scheme = urlsplit(url).scheme.lower()
    return "http" if scheme in ("http", "https") else "ws"


def _value(name: str, value: Any, sql: str) -> Any:
    """A parameter as the client sends it, adapted the way Python's sqlite3 adapts it."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                # Sent as it is, it would make sqld close the whole WebSocket (code 1007), failing
                # every statement on the connection rather than this one.
                raise DatabaseError(
                    f"parameter {name!r} is not valid Unicode text ({error.reason})", sql=sql
                ) from error
        return value
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if not _MIN_INTEGER <= value <= _MAX_INTEGER:
            raise DatabaseError(f"parameter {name!r} does not fit in a 64-bit integer", sql=sql)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DatabaseError(
                f"parameter {name!r} is {value}; a libSQL server accepts finite floats only",
                sql=sql,
            )
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    # The same text sqlite3's default adapters store (libsql-client would send epoch millis).
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise DatabaseError(
        f"parameter {name!r} has type {type(value).__name__}, which cannot be stored; pass "
        "str, int, float, bytes or None",
        sql=sql,
    )


def driver_args(sql: str, params: Params | None) -> DriverArgs:
    """The statement's named arguments: only the names it uses, because a libSQL server rejects
    a statement given a parameter it does not use (ARGS_INVALID), while sqlite3 and asyncpg
    ignore extras, and the repositories pass one mapping to statements using parts of it."""
    if not params:
        return None
    used = _names_used(sql)
    return {
        name: _value(name, value, sql)
        for name, value in params.items()
        if used is None or name in used
    }


def _names_used(sql: str) -> frozenset[str] | None:
    """The ``:name`` placeholders of ``sql`` (cached per statement); None if it cannot tell."""
    try:
        return frozenset(translate_placeholders(sql).names)
    except ConfigurationError:
        return None


def execute_result(result: DriverResultSet) -> ExecuteResult:
    return ExecuteResult(max(result.rows_affected, 0), result.last_insert_rowid or None)


def sum_results(results: Sequence[DriverResultSet]) -> ExecuteResult:
    if not results:
        return ExecuteResult(0)
    total = sum(max(result.rows_affected, 0) for result in results)
    return ExecuteResult(total, results[-1].last_insert_rowid or None)


def rows_of(result: DriverResultSet) -> list[Row]:
    return [row.asdict() for row in result.rows]


def values_of(result: DriverResultSet) -> list[tuple[Any, ...]]:
    return [row.astuple() for row in result.rows]


def timed_out(error: BaseException | None) -> bool:
    """Whether ``error`` says the server rolled the transaction back on its own."""
    cause = None if error is None else error.__cause__
    return getattr(cause, "code", None) == TRANSACTION_TIMEOUT


__all__ = [
    "Driver",
    "DriverArgs",
    "DriverClient",
    "DriverResultSet",
    "DriverRunner",
    "DriverTransaction",
    "Transport",
    "driver_args",
    "execute_result",
    "load_driver",
    "rows_of",
    "sum_results",
    "timed_out",
    "transport_of",
    "values_of",
]
