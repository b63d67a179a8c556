"""A small Hrana server backed by real SQLite, for testing the libSQL backend over real sockets.

The libSQL tests run against a real sqld (tests/sqld_server.py). This server remains only for
what sqld cannot be made to do here, and these tests use it:

- ``test_libsql_database.py::test_auth_token_option_is_sent_and_a_wrong_one_is_rejected``: an
  auth token compared as a plain string (sqld checks signed JWTs);
- ``test_libsql_database.py::test_constraint_failures_map_to_their_classes_from_extended_codes``:
  SQLite's extended error codes (sqld sends only primary ones);
- ``test_libsql_database.py::test_write_waiting_past_the_server_busy_timeout_is_database_busy``:
  ``SQLITE_BUSY`` after a 0.1 s busy timeout (sqld makes the writer wait, then times the
  holder's transaction out after 5 s);
- ``test_libsql_database.py::test_a_request_over_a_size_limit_fails_whole_and_keeps_nothing``:
  a request-size limit (aiohttp's 1 MiB; sqld took 80 MB);
- ``test_migrator_libsql.py::test_builtin_migrations_roll_back_fully_with_keys_off``:
  connections with foreign keys off (sqld's are always on);
- ``test_hrana_server.py``: this server's own protocol tests.

It follows the Hrana 1 and 2 specifications and the "Hrana over HTTP" API v1 and v2
specifications (``docs/HRANA_1_SPEC.md``, ``HRANA_2_SPEC.md``, ``HTTP_V1_SPEC.md`` and
``HTTP_V2_SPEC.md`` in the libSQL repository), and copies sqld's behaviour where the
specifications leave a choice (error codes and HTTP statuses, argument binding, batons).

Implemented
-----------
WebSocket, subprotocols ``hrana2`` (preferred) and ``hrana1``, JSON encoding:

- ``hello``: answered with ``hello_ok``, or with ``hello_error`` (code ``AUTH_FAILED``) followed by
  closing the socket when the server has an ``auth_token`` and the ``jwt`` differs. The token is
  compared as a plain string; nothing decodes or verifies a JWT. Hrana 2 clients may send
  ``hello`` again later to re-authenticate.
- requests ``open_stream``, ``close_stream``, ``execute``, ``batch``; with ``hrana2`` also
  ``sequence``, ``store_sql`` and ``close_sql`` (SQL texts are scoped to the connection).
- Every stream is its own ``sqlite3`` connection with its own worker thread. Requests on one
  stream run in the order they arrived; different streams run in parallel, so an interactive
  transaction on one stream and a statement waiting for its lock on another behave as on sqld.
  Closing a stream, or the socket, closes its connection, which rolls back an open transaction.
- Protocol violations close the socket with code 1002 (1003 for a binary frame): invalid JSON,
  an unknown message or request type, a request before ``hello``, a request on a stream id that
  was never opened, a duplicate stream or SQL id, a bad ``sql``/``sql_id`` pair, a batch
  condition that refers to a step that has not run yet.

HTTP:

- ``POST /v1/execute`` and ``POST /v1/batch`` (what libsql-client 0.3.1 sends for ``http://``
  URLs): each request runs on a fresh connection. A failed ``execute`` answers like sqld:
  ``{"message", "code"}`` with status 400 (bad SQL text or arguments), 501 (positional and named
  arguments together) or 500 (SQLite errors); a batch answers 200 with per-step errors.
- ``POST /v2/pipeline`` with batons: a null baton opens a stream; every response carries a new
  baton (HMAC-signed stream id and sequence number, like sqld's) that is valid for exactly one
  next request, or null once the stream is closed. A reused or forged baton answers 400
  (text/plain, as sqld does for protocol errors) and a stream idle for ``stream_expiry`` seconds
  is closed and its baton answers 500 ``STREAM_EXPIRED``. Stream requests: ``close``,
  ``execute``, ``batch``, ``sequence``, ``store_sql``, ``close_sql`` (SQL texts scoped to the
  stream). ``base_url`` is always null.
- ``GET /v1`` and ``GET /v2`` answer 200 (version probes). With an ``auth_token``, requests
  without ``Authorization: Bearer <token>`` answer 401 ``AUTH_FAILED``.

Statements and results: arguments by position (``args``) or by name (``named_args``, the name
with or without its ``:``/``@``/``$`` prefix); both at once is ``ARGS_BOTH_POSITIONAL_AND_NAMED``;
a missing argument, or a named argument the statement does not use, is ``ARGS_INVALID`` (sqld
rejects unused arguments; Python's sqlite3 would silently ignore them). More than one statement
in a text is ``SQL_MANY_STATEMENTS``; an empty text is ``SQL_NO_STATEMENT``. ``want_rows``
(default true) is honoured. Results carry ``cols`` (``decltype`` is always null: Python's sqlite3
does not expose it), ``rows``, ``affected_row_count`` (0 for statements that are not INSERT,
UPDATE or DELETE) and ``last_insert_rowid`` (a string). Values are null, integer (as a string),
float, text and blob (base64 without padding).

Batches run their steps in order; a step's ``condition`` (``ok``, ``error``, ``not``, ``and``,
``or``) is evaluated against the steps before it, and a skipped step has neither a result nor an
error. Statement errors are ``{"message": "SQLite error: ...", "code": ...}`` where the code is
SQLite's extended name (``SQLITE_CONSTRAINT_UNIQUE``, ``SQLITE_BUSY``...) by default, or with
``error_codes="primary"`` the primary name only (``SQLITE_CONSTRAINT``), which is what the sqld
sources in the libSQL repository send.

Not implemented
---------------
``describe`` (answers an error with code ``NOT_SUPPORTED``), everything of Hrana 3 (cursors,
``get_autocommit``, the ``hrana3`` subprotocol, Protobuf), replication indexes, the v0 HTTP API,
JWT verification, and limits on streams, requests or response sizes.

Every connection has ``PRAGMA foreign_keys = ON`` (``foreign_keys=False`` turns that off) and a
busy timeout; the database file is put in WAL mode once at start.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from aiohttp import WSCloseCode, WSMsgType, web

Json = dict[str, Any]
T = TypeVar("T")

# sqld's names for SQLite's primary result codes (SQLITE_ERROR has no name there).
_PRIMARY_NAMES = {
    1: "SQLITE_UNKNOWN",
    2: "SQLITE_INTERNAL",
    3: "SQLITE_PERM",
    4: "SQLITE_ABORT",
    5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED",
    7: "SQLITE_NOMEM",
    8: "SQLITE_READONLY",
    9: "SQLITE_INTERRUPT",
    10: "SQLITE_IOERR",
    11: "SQLITE_CORRUPT",
    12: "SQLITE_NOTFOUND",
    13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN",
    15: "SQLITE_PROTOCOL",
    17: "SQLITE_SCHEMA",
    18: "SQLITE_TOOBIG",
    19: "SQLITE_CONSTRAINT",
    20: "SQLITE_MISMATCH",
    21: "SQLITE_MISUSE",
    22: "SQLITE_NOLFS",
    23: "SQLITE_AUTH",
    25: "SQLITE_RANGE",
    26: "SQLITE_NOTADB",
}
# HTTP API v1 statuses for statement errors, as sqld answers them; SQLite errors are 500.
_V1_STATUS = {
    "SQL_NO_STATEMENT": 400,
    "SQL_MANY_STATEMENTS": 400,
    "ARGS_INVALID": 400,
    "ARGS_BOTH_POSITIONAL_AND_NAMED": 501,
}


class HranaError(Exception):
    """An error the protocol reports to the client (``{"message", "code"}``)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def to_proto(self) -> Json:
        return {"message": self.message, "code": self.code}


class ProtocolError(Exception):
    """The client broke the protocol: a WebSocket is closed, an HTTP request answers 400."""


# --- SQL execution, on a stream's worker thread ---------------------------------------------------


def _decode_value(value: Json) -> Any:
    kind = value.get("type")
    if kind == "null":
        return None
    if kind == "integer":
        return int(value["value"])
    if kind == "float":
        return float(value["value"])
    if kind == "text":
        return str(value["value"])
    if kind == "blob":
        data = str(value["base64"])
        return base64.b64decode(data + "=" * (-len(data) % 4))
    raise ProtocolError(f"Value type {kind!r} not recognized")


def _encode_value(value: Any) -> Json:
    if value is None:
        return {"type": "null"}
    if isinstance(value, int):
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, str):
        return {"type": "text", "value": value}
    return {"type": "blob", "base64": base64.b64encode(bytes(value)).decode().rstrip("=")}


class _SeenNames(dict[str, Any]):
    """Named arguments that note which names the statement asked for while being bound."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        # sqlite3 binds a dict subclass through __getitem__, once per parameter of the statement.
        self.asked.add(name)
        return self.get(name)


def _sqlite_error(error: sqlite3.Error, error_codes: str) -> HranaError:
    message = str(error)
    code_number = getattr(error, "sqlite_errorcode", None)
    if code_number is None:
        # Raised by the sqlite3 module itself before SQLite ran anything: binding problems, or
        # more than one statement in the text.
        if "one statement at a time" in message:
            return HranaError("SQL string contains more than one statement", "SQL_MANY_STATEMENTS")
        return HranaError(f"Arguments do not match SQL parameters: {message}", "ARGS_INVALID")
    if error_codes == "primary":
        code = _PRIMARY_NAMES.get(code_number & 0xFF, "SQLITE_UNKNOWN")
    else:
        code = getattr(error, "sqlite_errorname", "SQLITE_UNKNOWN")
    return HranaError(f"SQLite error: {message}", code)


def _check_named_args(conn: sqlite3.Connection, sql: str, named: dict[str, Any]) -> None:
    """Reject named arguments the statement does not use, as sqld does."""
    seen = _SeenNames(named)
    # EXPLAIN prepares and binds the statement without running it.
    conn.execute("EXPLAIN " + sql, seen).close()
    unused = sorted(set(named) - seen.asked)
    if unused:
        raise HranaError(
            "Arguments do not match SQL parameters: too many parameters, "
            f"{', '.join(unused)} not used by the statement",
            "ARGS_INVALID",
        )


def _run_statement(conn: sqlite3.Connection, stmt: Json, error_codes: str) -> Json:
    sql: str = stmt["sql"]
    args = stmt.get("args") or []
    named_args = stmt.get("named_args") or []
    if args and named_args:
        raise HranaError(
            "Specifying both positional and named arguments is not supported",
            "ARGS_BOTH_POSITIONAL_AND_NAMED",
        )
    if not sql.strip():
        raise HranaError("SQL string does not contain any statement", "SQL_NO_STATEMENT")
    params: list[Any] | dict[str, Any]
    try:
        if named_args:
            params = {
                str(arg["name"]).lstrip(":@$"): _decode_value(arg["value"]) for arg in named_args
            }
            _check_named_args(conn, sql, params)
        else:
            params = [_decode_value(value) for value in args]
        cursor = conn.execute(sql, params)
        try:
            columns = [{"name": column[0], "decltype": None} for column in cursor.description or ()]
            rows = cursor.fetchall()
            affected = max(cursor.rowcount, 0)
            last_rowid = cursor.lastrowid
        finally:
            cursor.close()
    except sqlite3.Error as error:
        raise _sqlite_error(error, error_codes) from error
    want_rows = stmt.get("want_rows", True) is not False
    return {
        "cols": columns,
        "rows": [[_encode_value(v) for v in row] for row in rows] if want_rows else [],
        "affected_row_count": affected,
        "last_insert_rowid": None if last_rowid is None else str(last_rowid),
    }


def _condition_holds(cond: Json, outcomes: list[bool | None]) -> bool:
    kind = cond.get("type")
    if kind == "ok":
        return outcomes[cond["step"]] is True
    if kind == "error":
        return outcomes[cond["step"]] is False
    if kind == "not":
        return not _condition_holds(cond["cond"], outcomes)
    if kind == "and":
        return all(_condition_holds(c, outcomes) for c in cond["conds"])
    if kind == "or":
        return any(_condition_holds(c, outcomes) for c in cond["conds"])
    raise ProtocolError(f"BatchCond type {kind!r} not recognized")


def _check_condition(cond: Json, step_index: int) -> None:
    """Validate a condition before anything runs: it may only refer to earlier steps."""
    kind = cond.get("type")
    if kind in ("ok", "error"):
        step = cond.get("step")
        if not isinstance(step, int) or not 0 <= step < step_index:
            raise ProtocolError("Invalid reference to step in a batch condition")
    elif kind == "not":
        _check_condition(cond["cond"], step_index)
    elif kind in ("and", "or"):
        for inner in cond["conds"]:
            _check_condition(inner, step_index)
    else:
        raise ProtocolError(f"BatchCond type {kind!r} not recognized")


def _run_batch(conn: sqlite3.Connection, batch: Json, error_codes: str) -> Json:
    outcomes: list[bool | None] = []
    results: list[Json | None] = []
    errors: list[Json | None] = []
    for step in batch["steps"]:
        cond = step.get("condition")
        if cond is not None and not _condition_holds(cond, outcomes):
            outcomes.append(None)
            results.append(None)
            errors.append(None)
            continue
        try:
            results.append(_run_statement(conn, step["stmt"], error_codes))
        except HranaError as error:
            outcomes.append(False)
            results.append(None)
            errors.append(error.to_proto())
        else:
            outcomes.append(True)
            errors.append(None)
    return {"step_results": results, "step_errors": errors}


def _split_statements(sql: str) -> list[str]:
    """Split a text at the semicolons that end complete statements (not those in strings)."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : index + 1]):
            statements.append(sql[start : index + 1])
            start = index + 1
    if sql[start:].strip():
        statements.append(sql[start:])
    return [s for s in statements if s.strip().rstrip(";").strip()]


def _run_sequence(conn: sqlite3.Connection, sql: str, error_codes: str) -> None:
    for statement in _split_statements(sql):
        try:
            conn.execute(statement).close()
        except sqlite3.Error as error:
            raise _sqlite_error(error, error_codes) from error


# --- streams ------------------------------------------------------------------------------------


def _resolve_sql(request: Json, sqls: dict[int, str]) -> str:
    sql, sql_id = request.get("sql"), request.get("sql_id")
    if sql is not None and sql_id is not None:
        raise ProtocolError("Either `sql` or `sql_id` are required, but not both")
    if sql is not None:
        return str(sql)
    if sql_id is None:
        raise ProtocolError("Either `sql` or `sql_id` are required")
    if sql_id not in sqls:
        raise ProtocolError(f"SQL text {sql_id} not found")
    return sqls[sql_id]


def _resolve_stmt(stmt: Json, sqls: dict[int, str]) -> Json:
    resolved = {key: value for key, value in stmt.items() if key != "sql_id"}
    resolved["sql"] = _resolve_sql(stmt, sqls)
    return resolved


def _resolve_batch(batch: Json, sqls: dict[int, str]) -> Json:
    steps = []
    for index, step in enumerate(batch["steps"]):
        cond = step.get("condition")
        if cond is not None:
            _check_condition(cond, index)
        steps.append({"condition": cond, "stmt": _resolve_stmt(step["stmt"], sqls)})
    return {"steps": steps}


class _Stream:
    """A Hrana stream: one SQLite connection, used by one worker thread in arrival order."""

    def __init__(self, server: HranaServer) -> None:
        self._server = server
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hrana-stream"
        )
        self._conn: sqlite3.Connection | None = None
        self._open_error: HranaError | None = None
        self.sqls: dict[int, str] = {}  # HTTP v2 streams keep their own SQL texts
        self.closed = False
        self.opened = self._submit(self._open)
        # Over HTTP nothing awaits the opening; a failure shows in the next request instead.
        self.opened.add_done_callback(lambda f: None if f.cancelled() else f.exception())

    def _submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.wrap_future(self._executor.submit(fn, *args))

    def _open(self) -> None:
        try:
            self._conn = self._server.connect()
        except sqlite3.Error as error:
            self._open_error = _sqlite_error(error, self._server.error_codes)
            raise self._open_error from error

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise self._open_error or HranaError("The stream is closed", "STREAM_CLOSED")
        return self._conn

    def execute(self, stmt: Json) -> asyncio.Future[Json]:
        codes = self._server.error_codes
        return self._submit(lambda: _run_statement(self._connection(), stmt, codes))

    def batch(self, batch: Json) -> asyncio.Future[Json]:
        codes = self._server.error_codes
        return self._submit(lambda: _run_batch(self._connection(), batch, codes))

    def sequence(self, sql: str) -> asyncio.Future[None]:
        codes = self._server.error_codes
        return self._submit(lambda: _run_sequence(self._connection(), sql, codes))

    def close(self) -> asyncio.Future[None]:
        """Close after the requests already queued; an open transaction is rolled back."""
        self.closed = True
        done = self._submit(self._close)
        self._executor.shutdown(wait=False)
        return done

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- WebSocket ----------------------------------------------------------------------------------


class _Socket:
    """One Hrana-over-WebSocket connection: its streams, SQL texts and pending responses."""

    def __init__(self, server: HranaServer, ws: web.WebSocketResponse, version: int) -> None:
        self._server = server
        self._ws = ws
        self._version = version
        self._greeted = False
        self._streams: dict[int, _Stream] = {}
        self._sqls: dict[int, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()

    async def serve(self) -> None:
        try:
            async for message in self._ws:
                if message.type == WSMsgType.BINARY:
                    await self._ws.close(
                        code=WSCloseCode.UNSUPPORTED_DATA,
                        message=b"Only text messages are accepted",
                    )
                    return
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    if not await self._handle(json.loads(message.data)):
                        return
                except (ValueError, KeyError, TypeError, ProtocolError) as error:
                    await self._ws.close(
                        code=WSCloseCode.PROTOCOL_ERROR, message=str(error).encode()
                    )
                    return
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        closing = [stream.close() for stream in self._streams.values()]
        self._streams.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*closing, *self._tasks, return_exceptions=True)

    async def _send(self, message: Json) -> None:
        async with self._send_lock:
            if not self._ws.closed:
                await self._ws.send_str(json.dumps(message))

    async def _handle(self, message: Json) -> bool:
        """Handle one client message; False when the socket must close."""
        kind = message.get("type")
        if kind == "hello":
            if self._greeted and self._version < 2:
                raise ProtocolError("hello can be sent only once in hrana1")
            if not self._server.token_accepted(message.get("jwt")):
                await self._send({"type": "hello_error", "error": _AUTH_ERROR.to_proto()})
                await self._ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"auth failed")
                return False
            self._greeted = True
            await self._send({"type": "hello_ok"})
            return True
        if kind == "request":
            if not self._greeted:
                raise ProtocolError("Received a request before hello message")
            self._request(int(message["request_id"]), message["request"])
            return True
        raise ProtocolError(f"ClientMsg type {kind!r} not recognized")

    def _stream(self, request: Json) -> _Stream:
        stream_id = request["stream_id"]
        stream = self._streams.get(stream_id)
        if stream is None:
            raise ProtocolError(f"Stream {stream_id} not found")
        return stream

    def _require_v2(self, kind: str) -> None:
        if self._version < 2:
            raise ProtocolError(f"{kind} is only supported in protocol version hrana2 and higher")

    def _request(self, request_id: int, request: Json) -> None:
        """Start one request. Work for a stream is queued now, so it runs in arrival order."""
        kind = request.get("type")
        work: Awaitable[Any]
        if kind == "open_stream":
            stream_id = request["stream_id"]
            if stream_id in self._streams:
                raise ProtocolError(f"Stream {stream_id} already exists")
            stream = self._streams[stream_id] = _Stream(self._server)
            work = stream.opened
        elif kind == "close_stream":
            stream = self._streams.pop(request["stream_id"], None)
            work = stream.close() if stream is not None else _done(None)
        elif kind == "execute":
            work = self._stream(request).execute(_resolve_stmt(request["stmt"], self._sqls))
        elif kind == "batch":
            work = self._stream(request).batch(_resolve_batch(request["batch"], self._sqls))
        elif kind == "sequence":
            self._require_v2(kind)
            work = self._stream(request).sequence(_resolve_sql(request, self._sqls))
        elif kind == "store_sql":
            self._require_v2(kind)
            if request["sql_id"] in self._sqls:
                raise ProtocolError(f"SQL text {request['sql_id']} already exists")
            self._sqls[request["sql_id"]] = str(request["sql"])
            work = _done(None)
        elif kind == "close_sql":
            self._require_v2(kind)
            self._sqls.pop(request["sql_id"], None)
            work = _done(None)
        elif kind == "describe":
            self._require_v2(kind)
            self._stream(request)
            work = _failed(HranaError("describe is not supported by this server", "NOT_SUPPORTED"))
        else:
            raise ProtocolError(f"Request type {kind!r} not recognized")
        task = asyncio.ensure_future(self._respond(request_id, str(kind), work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respond(self, request_id: int, kind: str, work: Awaitable[Any]) -> None:
        try:
            result = await work
        except HranaError as error:
            await self._send(
                {"type": "response_error", "request_id": request_id, "error": error.to_proto()}
            )
            return
        except Exception as error:  # a bug in this server: report it instead of hanging
            failure = {"message": f"{type(error).__name__}: {error}", "code": "INTERNAL"}
            await self._send({"type": "response_error", "request_id": request_id, "error": failure})
            return
        response: Json = {"type": kind}
        if kind in ("execute", "batch"):
            response["result"] = result
        await self._send({"type": "response_ok", "request_id": request_id, "response": response})


def _done(value: T) -> asyncio.Future[T]:
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def _failed(error: BaseException) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_exception(error)
    return future


_AUTH_ERROR = HranaError("Authentication failed: the auth token is missing or wrong", "AUTH_FAILED")


# --- HTTP API v2 streams ------------------------------------------------------------------------


@dataclass
class _HttpStream:
    stream: _Stream
    seq: int
    last_used: float = field(default_factory=time.monotonic)
    busy: bool = False


# --- the server ---------------------------------------------------------------------------------


class HranaServer:
    """A Hrana server on ``127.0.0.1`` and a free port, run by a background thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``database`` is the
    SQLite file every stream connects to.
    """

    def __init__(
        self,
        database: Path | str,
        *,
        auth_token: str | None = None,
        error_codes: Literal["extended", "primary"] = "extended",
        busy_timeout: float = 5.0,
        stream_expiry: float = 10.0,
        foreign_keys: bool = True,
    ) -> None:
        self.database = str(database)
        self.auth_token = auth_token
        self.error_codes = error_codes
        self.busy_timeout = busy_timeout
        self.stream_expiry = stream_expiry
        self.foreign_keys = foreign_keys
        self.port = 0
        self._baton_key = os.urandom(32)
        self._http_streams: dict[int, _HttpStream] = {}
        self._expired: set[int] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # URLs ----------------------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> HranaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving; returns once the port is bound."""
        conn = sqlite3.connect(self.database)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start())
            except BaseException as error:
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="hrana-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self) -> None:
        """Close every socket and stream (rolling back open transactions) and stop serving."""
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop = None
        self._thread = None

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._websocket)
        app.router.add_get("/v1", self._version_probe)
        app.router.add_get("/v2", self._version_probe)
        app.router.add_post("/v1/execute", self._v1_execute)
        app.router.add_post("/v1/batch", self._v1_batch)
        app.router.add_post("/v2/pipeline", self._v2_pipeline)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._sweeper = asyncio.ensure_future(self._expire_streams())

    async def _stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        closing = [entry.stream.close() for entry in self._http_streams.values()]
        self._http_streams.clear()
        await asyncio.gather(*closing, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    # shared --------------------------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """A new connection to the database, configured as each stream's is."""
        conn = sqlite3.connect(
            self.database, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout
        )
        if self.foreign_keys:
            conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def token_accepted(self, token: object) -> bool:
        return self.auth_token is None or token == self.auth_token

    def _http_authorized(self, request: web.Request) -> bool:
        if self.auth_token is None:
            return True
        return request.headers.get("Authorization") == f"Bearer {self.auth_token}"

    # WebSocket -----------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("hrana2", "hrana1"), autoping=True)
        await ws.prepare(request)
        # A client that offers no subprotocol speaks Hrana 1.
        version = 2 if ws.ws_protocol == "hrana2" else 1
        self._sockets.add(ws)
        try:
            await _Socket(self, ws, version).serve()
        finally:
            self._sockets.discard(ws)
        return ws

    # HTTP ----------------------------------------------------------------------------------------

    async def _version_probe(self, request: web.Request) -> web.Response:
        return web.Response(text=f"This is a Hrana test server ({request.path})")

    async def _read_body(self, request: web.Request) -> Json:
        try:
            body = await request.json()
        except ValueError as error:
            raise ProtocolError(f"Cannot deserialize client message from JSON: {error}") from None
        if not isinstance(body, dict):
            raise ProtocolError("the request body must be a JSON object")
        return body

    async def _once(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on a fresh connection on a worker thread (HTTP API v1)."""

        def run() -> T:
            conn = self.connect()
            try:
                return work(conn)
            finally:
                conn.close()

        return await asyncio.to_thread(run)

    async def _v1_execute(self, request: web.Request) -> web.Response:
        if not self._http_authorized(request):
            return web.json_response(_AUTH_ERROR.to_proto(), status=401)
        try:
            body = await self._read_body(request)
            stmt = _resolve_stmt(body["stmt"], {})
            codes = self.error_codes
            result = await self._once(lambda conn: _run_statement(conn, stmt, codes))
        except (ProtocolError, KeyError, TypeError) as error:
            return web.Response(status=400, text=str(error))
        except HranaError as error:
            return web.json_response(error.to_proto(), status=_V1_STATUS.get(error.code, 500))
        except sqlite3.Error as error:
            failure = _sqlite_error(error, self.error_codes)
            return web.json_response(failure.to_proto(), status=500)
        return web.json_response({"result": result})

    async def _v1_batch(self, request: web.Request) -> web.Response:
        if not self._http_authorized(request):
            return web.json_response(_AUTH_ERROR.to_proto(), status=401)
        try:
            body = await self._read_body(request)
            batch = _resolve_batch(body["batch"], {})
            codes = self.error_codes
            result = await self._once(lambda conn: _run_batch(conn, batch, codes))
        except (ProtocolError, KeyError, TypeError) as error:
            return web.Response(status=400, text=str(error))
        except sqlite3.Error as error:
            failure = _sqlite_error(error, self.error_codes)
            return web.json_response(failure.to_proto(), status=500)
        return web.json_response({"result": result})

    def _encode_baton(self, stream_id: int, seq: int) -> str:
        payload = struct.pack(">QQ", stream_id, seq)
        mac = hmac.new(self._baton_key, payload, hashlib.sha256).digest()
        return base64.b64encode(payload + mac).decode().rstrip("=")

    def _decode_baton(self, baton: str) -> tuple[int, int]:
        try:
            data = base64.b64decode(baton + "=" * (-len(baton) % 4), validate=True)
        except ValueError:
            raise ProtocolError("Received an invalid baton") from None
        if len(data) != 48:
            raise ProtocolError("Received an invalid baton")
        payload, mac = data[:16], data[16:]
        expected = hmac.new(self._baton_key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise ProtocolError("Received an invalid baton")
        stream_id, seq = struct.unpack(">QQ", payload)
        return stream_id, seq

    def _acquire(self, baton: object) -> tuple[int, _HttpStream]:
        if baton is None:
            stream_id = secrets.randbits(64)
            entry = _HttpStream(_Stream(self), seq=secrets.randbits(63))
            self._http_streams[stream_id] = entry
        else:
            stream_id, seq = self._decode_baton(str(baton))
            found = self._http_streams.get(stream_id)
            if found is None:
                if stream_id in self._expired:
                    raise HranaError("The stream has expired due to inactivity", "STREAM_EXPIRED")
                raise ProtocolError("Received an invalid baton")
            if found.busy or found.seq != seq:
                raise ProtocolError("Received a baton that has already been used")
            entry = found
        entry.busy = True
        entry.seq += 1  # the next request must show the baton this one answers with
        return stream_id, entry

    async def _v2_pipeline(self, request: web.Request) -> web.Response:
        if not self._http_authorized(request):
            return web.json_response(_AUTH_ERROR.to_proto(), status=401)
        try:
            body = await self._read_body(request)
            stream_id, entry = self._acquire(body.get("baton"))
        except ProtocolError as error:
            return web.Response(status=400, text=str(error))
        except HranaError as error:
            return web.json_response(error.to_proto(), status=500)
        results: list[Json] = []
        try:
            for stream_request in body.get("requests", []):
                results.append(await self._pipeline_request(entry.stream, stream_request))
        except (ProtocolError, KeyError, TypeError) as error:
            # sqld drops the stream when a pipeline breaks the protocol.
            self._http_streams.pop(stream_id, None)
            await entry.stream.close()
            return web.Response(status=400, text=str(error))
        finally:
            entry.busy = False
            entry.last_used = time.monotonic()
        if entry.stream.closed:
            self._http_streams.pop(stream_id, None)
            baton = None
        else:
            baton = self._encode_baton(stream_id, entry.seq)
        return web.json_response({"baton": baton, "base_url": None, "results": results})

    async def _pipeline_request(self, stream: _Stream, request: Json) -> Json:
        kind = request.get("type")
        if stream.closed:
            raise ProtocolError("Stream for this baton was closed")
        try:
            if kind == "close":
                await stream.close()
                return _ok({"type": "close"})
            if kind == "execute":
                stmt = _resolve_stmt(request["stmt"], stream.sqls)
                return _ok({"type": "execute", "result": await stream.execute(stmt)})
            if kind == "batch":
                batch = _resolve_batch(request["batch"], stream.sqls)
                return _ok({"type": "batch", "result": await stream.batch(batch)})
            if kind == "sequence":
                await stream.sequence(_resolve_sql(request, stream.sqls))
                return _ok({"type": "sequence"})
            if kind == "store_sql":
                if request["sql_id"] in stream.sqls:
                    raise ProtocolError(f"SQL text {request['sql_id']} already exists")
                stream.sqls[request["sql_id"]] = str(request["sql"])
                return _ok({"type": "store_sql"})
            if kind == "close_sql":
                stream.sqls.pop(request["sql_id"], None)
                return _ok({"type": "close_sql"})
            if kind == "describe":
                raise HranaError("describe is not supported by this server", "NOT_SUPPORTED")
        except HranaError as error:
            return {"type": "error", "error": error.to_proto()}
        raise ProtocolError(f"StreamRequest type {kind!r} not recognized")

    async def _expire_streams(self) -> None:
        interval = min(1.0, self.stream_expiry / 4)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for stream_id, entry in list(self._http_streams.items()):
                if not entry.busy and now - entry.last_used > self.stream_expiry:
                    del self._http_streams[stream_id]
                    self._expired.add(stream_id)
                    await entry.stream.close()


def _ok(response: Json) -> Json:
    return {"type": "ok", "response": response}


__all__ = ["HranaError", "HranaServer"]
