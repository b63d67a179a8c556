"""Parse database URLs: which backend, and what to hand its driver."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from agentsdb.errors import ConfigurationError, UnsupportedBackendError

DEFAULT_URL = "agents.db"
URL_ENVIRONMENT_VARIABLE = "AGENTSDB_URL"

Backend = Literal["sqlite", "postgresql", "libsql"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
_LIBSQL_SCHEMES = frozenset({"libsql", "ws", "wss", "http", "https"})


@dataclass(frozen=True, slots=True)
class ParsedURL:
    """A database URL resolved to a backend."""

    backend: Backend
    url: str
    # SQLite only: the string handed to sqlite3.connect, whether it is a URI, and whether the
    # database lives in memory (no WAL then).
    database: str = ""
    uri: bool = False
    in_memory: bool = False


def resolve_url(url: str | None) -> str:
    """The URL to use: the one given, else ``$AGENTSDB_URL``, else ``agents.db``."""
    if url:
        return url
    return os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL


def obscure_password(url: str) -> str:
    """The URL with any password replaced by ``***``, for logs and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:***"
    # Host and port exactly as written: parts.port raises on a malformed port, and
    # parts.hostname drops the brackets of an IPv6 address.
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _check_server_url(url: str, server: str) -> None:
    """ConfigurationError for a server URL whose host or port cannot be read.

    The message names the server kind and the problem, and shows the URL only with its password
    obscured.
    """
    try:
        parts = urlsplit(url)
        # A PostgreSQL URL may list several hosts (host1:5432,host2:5433): its driver reads them.
        port = None if "," in parts.netloc else parts.port
    except ValueError as error:
        problem = (
            "the port must be a number from 1 to 65535"
            if "port" in str(error).lower()
            else "the host is malformed (an IPv6 address goes in brackets: [::1])"
        )
        raise ConfigurationError(f"invalid {server} URL{_shown(url)}: {problem}") from error
    if port == 0:
        raise ConfigurationError(
            f"invalid {server} URL{_shown(url)}: the port must be a number from 1 to 65535"
        )


def _shown(url: str) -> str:
    """`` 'url'`` with its password obscured, or nothing when the URL cannot be split to do so."""
    try:
        return f" {obscure_password(url)!r}"
    except ValueError:
        return ""


def parse_url(url: str) -> ParsedURL:
    """Map a URL (or plain file path) to its backend.

    SQLite: ``agents.db``, ``path/to/x.db``, ``sqlite:///relative.db``, ``sqlite:////abs.db``,
    ``sqlite://`` or ``:memory:``, and ``file:`` URIs. PostgreSQL: ``postgresql://``,
    ``postgres://``. libSQL (remote): ``libsql://``, ``ws(s)://``, ``http(s)://``.
    """
    if "\x00" in url:
        raise ConfigurationError("a database URL or path cannot contain a NUL character")
    if url == ":memory:":
        return ParsedURL("sqlite", url, database=":memory:", in_memory=True)
    if url.startswith("file:"):
        in_memory = url.startswith("file::memory:") or "mode=memory" in url
        return ParsedURL("sqlite", url, database=url, uri=True, in_memory=in_memory)
    match = _SCHEME.match(url)
    if match is None:
        return ParsedURL("sqlite", url, database=url)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        path = url[len(match.group(0)) :]
        if path in ("", "/", "/:memory:", ":memory:"):
            return ParsedURL("sqlite", url, database=":memory:", in_memory=True)
        if not path.startswith("/"):
            raise UnsupportedBackendError(
                url, "a sqlite URL has three slashes before a relative path: sqlite:///agents.db"
            )
        return ParsedURL("sqlite", url, database=path[1:])
    if scheme in _POSTGRES_SCHEMES:
        _check_server_url(url, "PostgreSQL")
        return ParsedURL("postgresql", url)
    if scheme in _LIBSQL_SCHEMES:
        _check_server_url(url, "libSQL")
        return ParsedURL("libsql", url)
    raise UnsupportedBackendError(
        obscure_password(url),
        f"unknown scheme {scheme!r}; use a file path, sqlite:///, file:, postgresql:// or libsql://",
    )
