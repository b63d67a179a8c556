"""The options ``connect()`` accepts for a PostgreSQL URL, checked, and the settings they make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from agentsdb.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """The options ``connect()`` accepts for a PostgreSQL URL."""

    #: Connections opened at start (at least one is always opened, to check the URL).
    min_size: int = 1
    #: The most connections open at once; more concurrent callers wait for one.
    max_size: int = 10
    #: Seconds a statement may run before it is cancelled (None: no limit).
    command_timeout: float | None = None
    #: Seconds to wait for a new connection to the server.
    connect_timeout: float = 10.0
    #: Seconds a statement waits for a lock before DatabaseBusyError (None: server's setting).
    lock_timeout: float | None = None
    #: Prepared statements asyncpg keeps per connection (0 for PgBouncer transaction pooling).
    statement_cache_size: int = 100
    #: Server settings for every connection, such as {"search_path": "app"}.
    server_settings: Mapping[str, str] = field(default_factory=dict)


_OPTION_NAMES = frozenset(PostgresOptions.__dataclass_fields__)


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _seconds(name: str, value: Any, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        allowed = " or None" if optional else ""
        raise ConfigurationError(
            f"{name} must be a non-negative number of seconds{allowed}, got {value!r}"
        )
    return float(value)


def lock_timeout_ms(seconds: float) -> int:
    """PostgreSQL's lock_timeout in milliseconds; at least 1, because 0 means "wait forever"."""
    return max(1, round(seconds * 1000))


def parse_options(options: Mapping[str, Any]) -> PostgresOptions:
    """Check ``connect()`` options for a PostgreSQL URL; ConfigurationError names a bad one."""
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) for a PostgreSQL database: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(_OPTION_NAMES))}"
        )
    defaults = PostgresOptions()
    min_size = _count("min_size", options.get("min_size", defaults.min_size), 0)
    max_size = _count("max_size", options.get("max_size", defaults.max_size), 1)
    if min_size > max_size:
        raise ConfigurationError(f"min_size ({min_size}) must not exceed max_size ({max_size})")
    command_timeout = _seconds("command_timeout", options.get("command_timeout"), optional=True)
    if command_timeout == 0:
        raise ConfigurationError("command_timeout must be positive, or None for no limit")
    connect_timeout = _seconds(
        "connect_timeout", options.get("connect_timeout", defaults.connect_timeout), optional=False
    )
    settings = options.get("server_settings", {})
    if not isinstance(settings, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in settings.items()
    ):
        raise ConfigurationError(
            f"server_settings must map setting names to string values, got {settings!r}"
        )
    return PostgresOptions(
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        connect_timeout=cast(float, connect_timeout),
        lock_timeout=_seconds("lock_timeout", options.get("lock_timeout"), optional=True),
        statement_cache_size=_count(
            "statement_cache_size",
            options.get("statement_cache_size", defaults.statement_cache_size),
            0,
        ),
        server_settings=dict(settings),
    )


def server_settings(options: PostgresOptions) -> dict[str, str]:
    settings = {"application_name": "agentsdb", **options.server_settings}
    if options.lock_timeout is not None:
        if "lock_timeout" in options.server_settings:
            raise ConfigurationError(
                "lock_timeout is given twice (as an option and in server_settings); keep one"
            )
        settings["lock_timeout"] = str(lock_timeout_ms(options.lock_timeout))
    return settings


__all__ = ["PostgresOptions", "lock_timeout_ms", "parse_options", "server_settings"]
