"""The connection layer: ``connect(url)`` picks a backend by URL scheme."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentsdb.db.url import (
    DEFAULT_SYNCHRONOUS,
    obscure_password,
    parse_url,
    resolve_url,
    synchronous_level,
)
from agentsdb.errors import ConfigurationError, UnsupportedBackendError

if TYPE_CHECKING:
    from agentsdb.db.base import Database, ExecuteResult, Params, Program, Row, Transaction

_BASE_NAMES = frozenset({"Database", "ExecuteResult", "Params", "Program", "Row", "Transaction"})


def __getattr__(name: str) -> Any:
    # The contract's classes load on first use: reading a URL (agentsdb.db.url, the command
    # line's no-op migrate) does not need them.
    if name in _BASE_NAMES:
        from agentsdb.db import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_SQLITE_OPTIONS = frozenset({"busy_timeout", "synchronous"})
_LIBSQL_OPTIONS = frozenset({"auth_token"})


async def _open_libsql(url: str, options: dict[str, Any]) -> Database:
    """A remote libSQL server: ``libsql://``, ``ws(s)://`` or ``http(s)://``."""
    unknown = sorted(set(options) - _LIBSQL_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) for a libSQL database: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(_LIBSQL_OPTIONS))}"
        )
    auth_token = options.get("auth_token")
    if auth_token is not None and not isinstance(auth_token, str):
        raise ConfigurationError(f"auth_token must be a string, got {type(auth_token).__name__}")
    # The module imports libsql-client only when it opens; a missing extra raises
    # UnsupportedBackendError naming it.
    from agentsdb.db.libsql import LibsqlDatabase

    return await LibsqlDatabase.open(url, auth_token=auth_token)


def _create_option(options: dict[str, Any]) -> bool:
    """Take the backend-independent ``create`` option out of ``options``."""
    create = options.pop("create", True)
    if not isinstance(create, bool):
        raise ConfigurationError(f"create must be True or False, got {create!r}")
    return create


async def _open(url: str | None, options: dict[str, Any]) -> Database:
    options = dict(options)
    create = _create_option(options)
    resolved = resolve_url(url)
    parsed = parse_url(resolved)
    shown = obscure_password(resolved)
    if parsed.backend == "sqlite":
        unknown = sorted(set(options) - _SQLITE_OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) for a SQLite database: {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(_SQLITE_OPTIONS))}"
            )
        busy_timeout = options.get("busy_timeout", 5.0)
        if not isinstance(busy_timeout, int | float) or busy_timeout < 0:
            raise ConfigurationError(
                f"busy_timeout must be a non-negative number of seconds, got {busy_timeout!r}"
            )
        synchronous = parsed.synchronous
        if "synchronous" in options:
            chosen = synchronous_level(options["synchronous"])
            if synchronous is not None and chosen != synchronous:
                raise ConfigurationError(
                    f"synchronous is given twice, as {chosen.lower()} (option) and "
                    f"{synchronous.lower()} (in the URL); keep one"
                )
            synchronous = chosen
        # Imported here so that importing agentsdb stays cheap; aiosqlite is a core dependency.
        from agentsdb.db.sqlite import SQLiteDatabase

        return await SQLiteDatabase.open(
            parsed.database,
            url=shown,
            uri=parsed.uri,
            busy_timeout=float(busy_timeout),
            synchronous=synchronous or DEFAULT_SYNCHRONOUS,
            in_memory=parsed.in_memory,
            create=create,
        )
    if parsed.backend == "postgresql":
        # The module loads asyncpg only when it opens; a missing extra raises
        # UnsupportedBackendError naming it. It checks the options too.
        from agentsdb.db.postgres import PostgresDatabase

        return await PostgresDatabase.open(resolved, url=shown, options=options)
    if parsed.backend == "libsql":
        return await _open_libsql(resolved, options)
    extra = "postgres" if parsed.backend == "postgresql" else "libsql"
    raise UnsupportedBackendError(
        shown,
        f"the {parsed.backend} backend is not available in this version of agentsdb "
        f"(it will ship as the extra: pip install 'agentsdb[{extra}]')",
    )


class _Connecting:
    """What ``connect()`` returns: await it, or use it with ``async with`` to close on exit."""

    def __init__(self, url: str | None, options: dict[str, Any]) -> None:
        self._url = url
        self._options = options
        self._db: Database | None = None

    def __await__(self) -> Generator[Any, None, Database]:
        return _open(self._url, self._options).__await__()

    async def __aenter__(self) -> Database:
        self._db = await _open(self._url, self._options)
        return self._db

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


def connect(url: str | None = None, **options: Any) -> _Connecting:
    """Open a database by URL.

    ``url`` defaults to ``$AGENTSDB_URL``, then ``agents.db`` in the current folder. Use
    ``db = await connect(url)`` (then ``await db.close()``) or ``async with connect(url) as db``.

    ``create`` (every backend, default True): whether opening may create the database. With
    ``create=False`` a SQLite file that does not exist raises :class:`DatabaseFileError` naming
    it, and nothing is created. Server databases (PostgreSQL, libSQL) are never created by
    ``connect``, so there it changes nothing.

    SQLite options: ``busy_timeout`` (seconds to wait for another writer, default 5);
    ``synchronous`` (``"off"``, ``"normal"``, ``"full"`` or ``"extra"``, default normal: how
    often SQLite syncs to disk; also ``?synchronous=full`` in a ``sqlite://`` or ``file:`` URL).

    PostgreSQL (``postgresql://``, ``postgres://``; needs ``agentsdb[postgres]``) options:
    ``min_size`` and ``max_size`` (pool, default 1 and 10), ``command_timeout``,
    ``connect_timeout``, ``lock_timeout`` (seconds), ``statement_cache_size``,
    ``server_settings`` (see :class:`agentsdb.db.postgres.PostgresOptions`).

    libSQL (``libsql://``, ``ws(s)://``, ``http(s)://``; needs ``agentsdb[libsql]``) options:
    ``auth_token`` (the server's token, e.g. Turso's). Interactive transactions need a
    WebSocket URL; over HTTP use ``execute_batch()`` for atomic work.
    """
    return _Connecting(url, options)


__all__ = [
    "Database",
    "ExecuteResult",
    "Params",
    "Program",
    "Row",
    "Transaction",
    "connect",
]
