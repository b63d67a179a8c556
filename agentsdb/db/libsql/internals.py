"""The parts of libsql-client 0.3.1 this backend uses that are not its public API.

A batch with foreign keys off (:mod:`agentsdb.db.libsql.keys_off`) builds its own Hrana batch,
which the client's public ``batch()`` cannot express, so it needs the client's statement and
result converters (``libsql_client.hrana.convert``) and its transport (``_send`` over HTTP,
``_open_stream`` over a WebSocket). Each sits behind one function here, and
tests/test_libsql_private_api.py compares each with the client's public ``execute`` on a real
server, so a libsql-client release that changes them fails there first.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, cast

Json = dict[str, Any]


class Stream(Protocol):
    """A Hrana stream over a WebSocket (a context manager that closes it)."""

    def batch(self, batch: Json) -> Any:
        """Send a batch; an asyncio future of its result."""
        ...

    def __enter__(self) -> Stream: ...

    def __exit__(self, *exc: object) -> None: ...


def _convert() -> Any:
    return importlib.import_module("libsql_client.hrana.convert")


def statement_to_proto(sql: str, args: Any) -> Json:
    """A statement with its arguments as a Hrana ``stmt`` (the client's own encoding)."""
    return cast(Json, _convert()._stmt_to_proto(sql, args))


def result_set_from_proto(result: Json) -> Any:
    """A Hrana ``StmtResult`` as the client's ``ResultSet``."""
    return _convert()._result_set_from_proto(result)


def error_from_proto(error: Json) -> Exception:
    """A Hrana ``Error`` as the client's ``LibsqlError``."""
    return cast(Exception, _convert()._error_from_proto(error))


async def post(client: object, path: str, body: Json) -> Json:
    """POST ``body`` to ``path`` on an HTTP client's server; the decoded JSON reply."""
    return cast(Json, await cast(Any, client)._send("POST", path, body))


def open_stream(client: object) -> Stream:
    """A new stream on a WebSocket client."""
    return cast(Stream, cast(Any, client)._open_stream())


__all__ = [
    "Stream",
    "error_from_proto",
    "open_stream",
    "post",
    "result_set_from_proto",
    "statement_to_proto",
]
