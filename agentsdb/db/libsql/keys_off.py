"""An atomic libSQL batch that runs with foreign keys switched off, for table rebuilds.

``PRAGMA foreign_keys`` does nothing inside a transaction, and libsql-client's ``batch()`` always
begins with ``BEGIN``, so a client cannot switch foreign keys off for a batch through it. A Hrana
batch runs on one server connection, though, and its steps may carry conditions, so this module
builds the batch itself::

    PRAGMA foreign_keys = OFF; BEGIN; the statements; COMMIT;
    ROLLBACK (unless COMMIT succeeded); PRAGMA foreign_keys = ON (always)

and sends it the way libsql-client 0.3.1 sends its own batches (a stream's ``batch`` over a
WebSocket, ``POST v1/batch`` over HTTP). The client's internals it needs (``_open_stream``,
``_send`` and ``hrana.convert``) sit behind :mod:`agentsdb.db.libsql.internals`, whose test
compares them with the client's public API; the libSQL tests exercise this on both
transports. The last step switches keys back on, so use it
only on a server whose connections have them on (elsewhere nothing needs switching off).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from agentsdb.db.libsql import internals

log = logging.getLogger("agentsdb.db.libsql")

Json = dict[str, Any]


async def run(client: object, statements: Sequence[tuple[str, Any]], *, http: bool) -> list[Any]:
    """Run ``statements`` as one such batch; their result sets, or the first step's error."""
    return results(await send(client, build(statements), http=http), len(statements))


def build(statements: Sequence[tuple[str, Any]]) -> Json:
    """The Hrana batch: keys off, the statements in a transaction, keys back on."""
    to_proto = internals.statement_to_proto
    steps: list[Json] = [{"stmt": {"sql": "PRAGMA foreign_keys = OFF", "want_rows": False}}]
    steps.append({"condition": {"type": "ok", "step": 0}, "stmt": _plain("BEGIN")})
    for sql, args in statements:
        steps.append(
            {"condition": {"type": "ok", "step": len(steps) - 1}, "stmt": to_proto(sql, args)}
        )
    commit = len(steps)
    steps.append({"condition": {"type": "ok", "step": commit - 1}, "stmt": _plain("COMMIT")})
    rollback_unless_committed = {"type": "not", "cond": {"type": "ok", "step": commit}}
    steps.append({"condition": rollback_unless_committed, "stmt": _plain("ROLLBACK")})
    steps.append({"stmt": _plain("PRAGMA foreign_keys = ON")})
    return {"steps": steps}


def _plain(sql: str) -> Json:
    return {"sql": sql, "want_rows": False}


async def send(client: object, batch: Json, *, http: bool) -> Json:
    """Send the batch on a new stream (ws) or in one request (HTTP); the batch result."""
    if http:
        response = await internals.post(client, "v1/batch", {"batch": batch})
        return cast(Json, response["result"])
    with internals.open_stream(client) as stream:
        pending = stream.batch(batch)
    return cast(Json, await pending)


def results(result: Json, count: int) -> list[Any]:
    """The statements' result sets; raises the first failing step's error (the driver's)."""
    errors: list[Json | None] = result["step_errors"]
    outcomes: list[Json | None] = result["step_results"]
    if len(errors) != count + 5 or len(outcomes) != count + 5:
        raise internals.error_from_proto(
            {"message": "the server returned a batch result of the wrong length"}
        )
    # Keys off, BEGIN, the statements, COMMIT: the first error among them is the batch's.
    for error in errors[: count + 3]:
        if error is not None:
            raise internals.error_from_proto(error)
    if errors[-1] is not None:
        log.warning(
            "switching foreign keys back on after a batch failed: %s", errors[-1].get("message")
        )
    return [internals.result_set_from_proto(cast(Json, one)) for one in outcomes[2 : count + 2]]


__all__ = ["build", "results", "run", "send"]
