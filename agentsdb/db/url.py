"""Parse database URLs: which backend, and what to hand its driver."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from agentsdb.errors import UnsupportedBackendError

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


def parse_url(url: str) -> ParsedURL:
    """Map a URL (or plain file path) to its backend.

    SQLite: ``agents.db``, ``path/to/x.db``, ``sqlite:///relative.db``, ``sqlite:////abs.db``,
    ``sqlite://`` or ``:memory:``, and ``file:`` URIs. PostgreSQL: ``postgresql://``,
    ``postgres://``. libSQL (remote): ``libsql://``, ``ws(s)://``, ``http(s)://``.
    """
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
                obscure_password(url),
                "a sqlite URL has three slashes before a relative path: sqlite:///agents.db",
            )
        return ParsedURL("sqlite", url, database=path[1:])
    if scheme in _POSTGRES_SCHEMES:
        return ParsedURL("postgresql", url)
    if scheme in _LIBSQL_SCHEMES:
        return ParsedURL("libsql", url)
    raise UnsupportedBackendError(
        obscure_password(url),
        f"unknown scheme {scheme!r}; use a file path, sqlite:///, file:, postgresql:// or libsql://",
    )
