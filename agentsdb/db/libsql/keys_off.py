"""An atomic libSQL batch that runs with foreign keys switched off, for table rebuilds.

``PRAGMA foreign_keys`` does nothing inside a transaction, and libsql-client's ``batch()`` always
begins with ``BEGIN``, so a client cannot switch foreign keys off for a batch through it. A Hrana
batch runs on one server connection, though, and its steps may carry conditions, so this module
builds the batch itself::

    PRAGMA foreign_keys = OFF; BEGIN; the statements; COMMIT;
    ROLLBACK (unless COMMIT succeeded); PRAGMA foreign_keys = ON (always)

and sends it the way libsql-client 0.3.1 sends its own batches (a stream's ``batch`` over a
WebSocket, ``POST v1/batch`` over HTTP). It reaches into that version's internals
(``_open_stream``, ``_send`` and ``hrana.convert``), which the exact pin in pyproject keeps still
and the libSQL tests exercise on both transports. The last step switches keys back on, so use it
only on a server whose connections have them on (elsewhere nothing needs switching off).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

log = logging.getLogger("agentsdb.db.libsql")

Json = dict[str, Any]


class _Stream(Protocol):
    def batch(self, batch: Json) -> Any: ...  # an asyncio future of the batch result

    def __enter__(self) -> _Stream: ...

    def __exit__(self, *exc: object) -> None: ...


class _Convert(Protocol):
    _stmt_to_proto: Callable[[str, Any], Json]
    _result_set_from_proto: Callable[[Json], Any]
    _error_from_proto: Callable[[Json], Exception]


def _convert() -> _Convert:
    return cast(_Convert, importlib.import_module("libsql_client.hrana.convert"))


async def run(client: object, statements: Sequence[tuple[str, Any]], *, http: bool) -> list[Any]:
    """Run ``statements`` as one such batch; their result sets, or the first step's error."""
    return results(await send(client, build(statements), http=http), len(statements))


def build(statements: Sequence[tuple[str, Any]]) -> Json:
    """The Hrana batch: keys off, the statements in a transaction, keys back on."""
    to_proto = _convert()._stmt_to_proto
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
        response = await cast(Any, client)._send("POST", "v1/batch", {"batch": batch})
        return cast(Json, response["result"])
    with cast(_Stream, cast(Any, client)._open_stream()) as stream:
        pending = stream.batch(batch)
    return cast(Json, await pending)


def results(result: Json, count: int) -> list[Any]:
    """The statements' result sets; raises the first failing step's error (the driver's)."""
    convert = _convert()
    errors: list[Json | None] = result["step_errors"]
    outcomes: list[Json | None] = result["step_results"]
    if len(errors) != count + 5 or len(outcomes) != count + 5:
        raise convert._error_from_proto(
            {"message": "the server returned a batch result of the wrong length"}
        )
    # Keys off, BEGIN, the statements, COMMIT: the first error among them is the batch's.
    for error in errors[: count + 3]:
        if error is not None:
            raise convert._error_from_proto(error)
    if errors[-1] is not None:
        log.warning(
            "switching foreign keys back on after a batch failed: %s", errors[-1].get("message")
        )
    return [convert._result_set_from_proto(cast(Json, one)) for one in outcomes[2 : count + 2]]


__all__ = ["build", "results", "run", "send"]
