"""One read-only query on a local SQLite file, synchronously, without an event loop.

For the command line's no-op ``migrate``: starting asyncio (which loads ssl, socket, logging and
inspect) costs about as much as starting Python, while proving that nothing is pending takes one
query (:attr:`agentsdb.migrator.tracking.TrackingSQL.head`). :func:`peek` answers that query when
it can
cheaply; ``None`` sends the caller down the ordinary asynchronous path, which remains the
authority (it is what runs whenever the peek cannot prove a no-op).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from agentsdb.db.url import parse_url, resolve_url

if TYPE_CHECKING:
    from agentsdb.db.base import Params, Row

#: The busy timeout of the peek, in seconds: a WAL reader does not wait for writers, and a
#: database in the middle of a checkpoint or a rollback-journal write is left to the full path.
_TIMEOUT = 0.05


def peek(
    url: str | None, queries: Callable[[str], Sequence[tuple[str, Params]]]
) -> tuple[str, list[list[Row]]] | None:
    """(dialect, the rows of each of ``queries(dialect)``) on the database ``url`` names (None:
    ``$AGENTSDB_URL``, then ``agents.db``, as ``connect`` resolves it), read on a read-only
    connection in one transaction, when that is an existing local SQLite file; None otherwise,
    or when a query fails for any reason (no such table, locked, not a database)."""
    parsed = parse_url(resolve_url(url))
    if parsed.backend != "sqlite" or parsed.in_memory or parsed.uri:
        return None
    path = os.path.abspath(parsed.database)
    if not os.path.isfile(path):
        return None
    dialect = "sqlite"
    try:
        connection = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, timeout=_TIMEOUT, isolation_level=None
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")  # one snapshot for every query
        results: list[list[Row]] = []
        for sql, params in queries(dialect):
            cursor = connection.execute(sql, params)
            names = [column[0] for column in cursor.description or ()]
            results.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
        return dialect, results
    except sqlite3.Error:
        return None
    finally:
        connection.close()


__all__ = ["peek"]
