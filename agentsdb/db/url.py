"""Parse database URLs: which backend, and what to hand its driver."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from agentsdb.errors import ConfigurationError, UnsupportedBackendError

DEFAULT_URL = "agents.db"
URL_ENVIRONMENT_VARIABLE = "AGENTSDB_URL"

Backend = Literal["sqlite", "postgresql", "libsql"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
_LIBSQL_SCHEMES = frozenset({"libsql", "ws", "wss", "http", "https"})

#: SQLite's ``PRAGMA synchronous`` levels agentsdb accepts, weakest first. In WAL mode NORMAL
#: syncs at checkpoints only: a power cut (not a process crash) can lose the last commits but
#: never corrupts the file; FULL syncs the WAL at every commit; OFF never syncs (a power cut can
#: corrupt the file); EXTRA also syncs the directory after deleting a rollback journal.
Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
SYNCHRONOUS_LEVELS: tuple[Synchronous, ...] = ("OFF", "NORMAL", "FULL", "EXTRA")
DEFAULT_SYNCHRONOUS: Synchronous = "NORMAL"
# Query parameters a sqlite:// URL may carry (a file: URI's other parameters are SQLite's own).
_SQLITE_QUERY_OPTIONS = ("synchronous",)


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
    # SQLite only: the ``synchronous`` level the URL's query asked for (``?synchronous=full``),
    # None when it names none.
    synchronous: Synchronous | None = None


def synchronous_level(value: object, source: str = "synchronous") -> Synchronous:
    """``value`` (``"full"``, ``"NORMAL"``...) as one of :data:`SYNCHRONOUS_LEVELS`.

    ConfigurationError names ``source`` (the option or URL parameter it came from) and the
    accepted levels for anything else.
    """
    if isinstance(value, str):
        for level in SYNCHRONOUS_LEVELS:
            if value.strip().upper() == level:
                return level
    shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
    accepted = ", ".join(level.lower() for level in SYNCHRONOUS_LEVELS)
    raise ConfigurationError(f"{source} must be one of {accepted}, got {shown}")


def _query_options(query: str, url: str, *, only_ours: bool) -> tuple[Synchronous | None, str]:
    """(the synchronous level ``query`` names, the query without it).

    ``only_ours``: every parameter must be one agentsdb reads (a ``sqlite://`` URL); otherwise
    the rest are left for SQLite (a ``file:`` URI's ``mode``, ``cache``...).
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    ours = [(name, value) for name, value in pairs if name.lower() in _SQLITE_QUERY_OPTIONS]
    if only_ours and len(ours) < len(pairs):
        unknown = sorted({name for name, _ in pairs} - {name for name, _ in ours})
        raise ConfigurationError(
            f"unknown parameter(s) in the SQLite URL {obscure_password(url)!r}: "
            f"{', '.join(unknown)}; accepted: {', '.join(_SQLITE_QUERY_OPTIONS)}"
        )
    if len(ours) > 1:
        raise ConfigurationError(
            f"the SQLite URL {obscure_password(url)!r} gives synchronous more than once"
        )
    level = synchronous_level(ours[0][1], "the URL's synchronous parameter") if ours else None
    rest = urlencode([(name, value) for name, value in pairs if (name, value) not in ours])
    return level, rest


def resolve_url(url: str | None) -> str:
    """The URL to use: the one given, else ``$AGENTSDB_URL``, else ``agents.db``."""
    if url:
        return url
    return os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL


# Names of settings that hold a credential, in a URL's query (?password=...), a libpq-style
# "key=value" connection string, or any message that quotes one of them.
_CREDENTIAL_NAMES = (
    "password",
    "passwd",
    "pwd",
    "sslpassword",
    "auth_token",
    "authtoken",
    "access_token",
    "token",
    "secret",
    "api_key",
    "apikey",
)
_MASK = "***"
# scheme://user:secret@ : the secret runs to the last "@" before the end of the URL (a space or
# quote), so an unescaped "@", "/" or "?" in it is masked too.
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:@/?#\s'\"]*:)(?P<secret>[^\s'\"]*)@"
)
# name=value, name = 'quoted value', ?name=value&..., in any case.
_SETTING = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:"
    + "|".join(_CREDENTIAL_NAMES)
    + r")\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^\s&#'\";,)]+)",
    re.IGNORECASE,
)
# Literal secrets shorter than this are not searched for in free text (a one-letter password
# would blank out every occurrence of that letter); the patterns above still mask them.
_SHORTEST_LITERAL = 3


def obscure_password(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every credential in it replaced by ``***``, for messages and logs.

    ``text`` is a database URL or any message quoting one. Masked: the password of
    ``user:password@`` (also in a URL inside a longer message), the value of every credential
    setting (``password``, ``sslpassword``, ``auth_token``/``authToken``, ``token``, ``secret``,
    ``api_key``...) written as a URL query parameter or as ``name=value`` (libpq's key/value
    form, quoted or not), and each of ``secrets`` (see :func:`credentials_of`) wherever it
    appears, such as in a driver's error text.
    """
    masked = _USERINFO.sub(lambda m: f"{m['head']}{_MASK}@", text)
    masked = _SETTING.sub(lambda m: f"{m['head']}{_MASK}", masked)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= _SHORTEST_LITERAL:
            masked = masked.replace(secret, _MASK)
    return masked


def credentials_of(url: str) -> tuple[str, ...]:
    """The secret values ``url`` carries, as written and percent-decoded: the password of its
    user info and its credential query parameters. For masking driver messages that may quote
    them in another form than the URL itself."""
    found: list[str] = []
    for match in _USERINFO.finditer(url):
        found.append(match["secret"])
    for match in _SETTING.finditer(url):
        found.append(match["secret"].strip("'\""))
    decoded = [unquote(value) for value in found]
    return tuple(value for value in {*found, *decoded} if value)


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
    ``sqlite://`` or ``:memory:``, and ``file:`` URIs; ``sqlite://`` URLs and ``file:`` URIs may
    carry ``?synchronous=off|normal|full|extra`` (a plain path has no query: ``?`` is part of a
    file name). PostgreSQL: ``postgresql://``,
    ``postgres://``. libSQL (remote): ``libsql://``, ``ws(s)://``, ``http(s)://``.
    """
    if "\x00" in url:
        raise ConfigurationError("a database URL or path cannot contain a NUL character")
    if url == ":memory:":
        return ParsedURL("sqlite", url, database=":memory:", in_memory=True)
    if url.startswith("file:"):
        in_memory = url.startswith("file::memory:") or "mode=memory" in url
        database, _, query = url.partition("?")
        synchronous, rest = _query_options(query, url, only_ours=False)
        # SQLite reads the URI's other parameters itself; the one agentsdb read is taken out.
        if synchronous is None:
            database = url
        elif rest:
            database = f"{database}?{rest}"
        return ParsedURL(
            "sqlite", url, database=database, uri=True, in_memory=in_memory, synchronous=synchronous
        )
    match = _SCHEME.match(url)
    if match is None:
        return ParsedURL("sqlite", url, database=url)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        path, _, query = url[len(match.group(0)) :].partition("?")
        synchronous, _ = _query_options(query, url, only_ours=True)
        if path in ("", "/:memory:", ":memory:"):
            return ParsedURL(
                "sqlite", url, database=":memory:", in_memory=True, synchronous=synchronous
            )
        if path == "/":
            # Most likely a path left out (an empty variable); an in-memory database here would
            # silently lose everything written to it.
            raise UnsupportedBackendError(
                obscure_password(url),
                "the sqlite URL names no file: write sqlite:///agents.db "
                "(or sqlite:// for an in-memory database)",
            )
        if not path.startswith("/"):
            raise UnsupportedBackendError(
                obscure_password(url),
                "a sqlite URL has three slashes before a relative path: sqlite:///agents.db",
            )
        return ParsedURL("sqlite", url, database=path[1:], synchronous=synchronous)
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
