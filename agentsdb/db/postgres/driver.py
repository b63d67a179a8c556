"""asyncpg, loaded when a PostgreSQL URL is opened, and the connections it makes for the pool."""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from agentsdb.db.postgres.errors import translate_connect_error
from agentsdb.db.postgres.options import PostgresOptions, server_settings
from agentsdb.db.postgres.pool import DriverConnection
from agentsdb.db.url import credentials_of
from agentsdb.errors import UnsupportedBackendError


class _Asyncpg(Protocol):
    """The asyncpg module, as far as agentsdb uses it."""

    def connect(
        self,
        dsn: str,
        *,
        timeout: float,
        command_timeout: float | None,
        statement_cache_size: int,
        server_settings: dict[str, str],
    ) -> Awaitable[object]:
        """Open one connection."""
        ...


def _load_driver(url: str) -> _Asyncpg:
    try:
        module = importlib.import_module("asyncpg")
    except ImportError as error:
        raise UnsupportedBackendError(
            url,
            "the PostgreSQL driver asyncpg is not installed; install the extra: "
            "pip install 'agentsdb[postgres]'",
        ) from error
    return cast(_Asyncpg, module)


def encode_json(value: Any) -> str:
    """A ``json``/``jsonb`` parameter: a ``str`` is JSON text already, anything else is dumped."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def install_json_codecs(connection: DriverConnection) -> None:
    for typename in ("json", "jsonb"):
        await connection.set_type_codec(
            typename, encoder=encode_json, decoder=json.loads, schema="pg_catalog"
        )


def connector(
    dsn: str, url: str, settings: PostgresOptions
) -> Callable[[], Awaitable[DriverConnection]]:
    """What the pool calls to open a connection: asyncpg's, with the JSON codecs installed.

    ``dsn`` is the URL handed to asyncpg; ``url`` the same with the password obscured, for
    messages. Loading asyncpg fails here (UnsupportedBackendError naming the extra).
    """
    settings_sent = server_settings(settings)  # a bad setting is refused before the import
    driver = _load_driver(url)
    secrets = credentials_of(dsn)

    async def connect() -> DriverConnection:
        try:
            raw = await driver.connect(
                dsn,
                timeout=settings.connect_timeout,
                command_timeout=settings.command_timeout,
                statement_cache_size=settings.statement_cache_size,
                server_settings=settings_sent,
            )
        except Exception as error:  # refused, unknown host, auth, no such database, bad DSN
            raise translate_connect_error(error, url, secrets) from error
        connection = cast(DriverConnection, raw)
        try:
            await install_json_codecs(connection)
        except Exception as error:
            connection.terminate()
            raise translate_connect_error(error, url, secrets) from error
        except BaseException:
            connection.terminate()
            raise
        return connection

    return connect


__all__ = ["connector", "encode_json", "install_json_codecs"]
