"""The connection layer: ``connect(url)`` picks a backend by URL scheme."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import Any

from agentsdb.db.base import Database, ExecuteResult, Params, Program, Row, Transaction
from agentsdb.db.url import obscure_password, parse_url, resolve_url
from agentsdb.errors import ConfigurationError, UnsupportedBackendError

_SQLITE_OPTIONS = frozenset({"busy_timeout"})


async def _open(url: str | None, options: dict[str, Any]) -> Database:
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
        # Imported here so that importing agentsdb stays cheap; aiosqlite is a core dependency.
        from agentsdb.db.sqlite import SQLiteDatabase

        return await SQLiteDatabase.open(
            parsed.database,
            url=shown,
            uri=parsed.uri,
            busy_timeout=float(busy_timeout),
            in_memory=parsed.in_memory,
        )
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

    SQLite options: ``busy_timeout`` (seconds to wait for another writer, default 5).
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
