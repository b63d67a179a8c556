"""The Hrana test server itself, spoken to with raw protocol messages over real loopback sockets:
batch conditions, streams as separate connections, SQL texts, batons, errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

aiohttp = pytest.importorskip("aiohttp", reason="the Hrana test server needs aiohttp")

from hrana_server import HranaServer  # noqa: E402

Json = dict[str, Any]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "hrana.db"


@pytest.fixture
def server(database_file: Path) -> Iterator[HranaServer]:
    with HranaServer(database_file) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[Any]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def stmt(sql: str, *args: Any) -> Json:
    return {"sql": sql, "args": [value(a) for a in args], "want_rows": True}


def value(v: Any) -> Json:
    if v is None:
        return {"type": "null"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    return {"type": "text", "value": v}


def cell(result: Json, row: int = 0, col: int = 0) -> Any:
    return result["rows"][row][col]["value"]


class Hrana:
    """A minimal Hrana-over-WebSocket client: send requests, read the response to each."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0

    async def hello(self, jwt: str | None = None) -> Json:
        await self.ws.send_str(json.dumps({"type": "hello", "jwt": jwt}))
        return json.loads(await self.ws.receive_str())

    async def send(self, request: Json) -> int:
        self.next_id += 1
        message = {"type": "request", "request_id": self.next_id, "request": request}
        await self.ws.send_str(json.dumps(message))
        return self.next_id

    async def responses(self, count: int) -> dict[int, Json]:
        """Read ``count`` responses (the server may answer in any order), keyed by request id."""
        found: dict[int, Json] = {}
        while len(found) < count:
            message = json.loads(await self.ws.receive_str())
            found[message["request_id"]] = message
        return found

    async def call(self, request: Json) -> Json:
        request_id = await self.send(request)
        return (await self.responses(1))[request_id]


@pytest.fixture
async def hrana(server: HranaServer, session: Any) -> AsyncIterator[Hrana]:
    async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
        client = Hrana(ws)
        assert await client.hello() == {"type": "hello_ok"}
        yield client


async def pipeline(session: Any, server: HranaServer, baton: str | None, *requests: Json) -> Any:
    body = {"baton": baton, "requests": list(requests)}
    return await session.post(f"{server.http_url}/v2/pipeline", json=body)


# --- WebSocket ------------------------------------------------------------------------------------


async def test_websocket_negotiates_hrana2(server: HranaServer, session: Any) -> None:
    async with session.ws_connect(server.ws_url, protocols=["hrana2", "hrana1"]) as ws:
        assert ws.protocol == "hrana2"


async def test_request_before_hello_closes_the_socket_with_a_protocol_error(
    server: HranaServer, session: Any
) -> None:
    async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
        await Hrana(ws).send({"type": "open_stream", "stream_id": 1})
        message = await ws.receive()
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == aiohttp.WSCloseCode.PROTOCOL_ERROR
        assert "before hello" in message.extra


async def test_wrong_token_gets_hello_error_and_the_socket_closes(
    database_file: Path, session: Any
) -> None:
    with HranaServer(database_file, auth_token="right") as server:
        async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
            answer = await Hrana(ws).hello("wrong")
            assert answer["type"] == "hello_error"
            assert answer["error"]["code"] == "AUTH_FAILED"
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
        async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
            assert await Hrana(ws).hello("right") == {"type": "hello_ok"}


async def test_execute_returns_columns_rows_and_counts(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    await hrana.call({"type": "execute", "stream_id": 1, "stmt": stmt("CREATE TABLE t (a, b)")})
    insert = await hrana.call(
        {"type": "execute", "stream_id": 1, "stmt": stmt("INSERT INTO t VALUES (?, ?)", 7, "x")}
    )
    assert insert["response"]["result"]["affected_row_count"] == 1
    assert insert["response"]["result"]["last_insert_rowid"] == "1"
    select = await hrana.call(
        {
            "type": "execute",
            "stream_id": 1,
            "stmt": {
                "sql": "SELECT a, b, x'00ff' AS c, 1.5 AS d, NULL AS e FROM t WHERE b = :b",
                "named_args": [{"name": ":b", "value": value("x")}],
            },
        }
    )
    result = select["response"]["result"]
    assert [c["name"] for c in result["cols"]] == ["a", "b", "c", "d", "e"]
    assert result["rows"] == [
        [
            {"type": "integer", "value": "7"},
            {"type": "text", "value": "x"},
            {"type": "blob", "base64": "AP8"},
            {"type": "float", "value": 1.5},
            {"type": "null"},
        ]
    ]


async def test_want_rows_false_returns_no_rows(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    answer = await hrana.call(
        {"type": "execute", "stream_id": 1, "stmt": {"sql": "SELECT 1", "want_rows": False}}
    )
    assert answer["response"]["result"]["rows"] == []


async def test_argument_errors_have_sqld_codes(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    cases = [
        ({"sql": "SELECT ?", "args": [value(1)], "named_args": []}, None),
        (
            {
                "sql": "SELECT ?",
                "args": [value(1)],
                "named_args": [{"name": "a", "value": value(1)}],
            },
            "ARGS_BOTH_POSITIONAL_AND_NAMED",
        ),
        ({"sql": "SELECT ?"}, "ARGS_INVALID"),
        ({"sql": "SELECT :a", "named_args": [{"name": "b", "value": value(1)}]}, "ARGS_INVALID"),
        (
            {
                "sql": "SELECT :a",
                "named_args": [
                    {"name": "a", "value": value(1)},
                    {"name": "extra", "value": value(2)},
                ],
            },
            "ARGS_INVALID",
        ),
        ({"sql": "SELECT 1; SELECT 2"}, "SQL_MANY_STATEMENTS"),
        ({"sql": "  "}, "SQL_NO_STATEMENT"),
        ({"sql": "SELEC 1"}, "SQLITE_ERROR"),
    ]
    for statement, code in cases:
        answer = await hrana.call({"type": "execute", "stream_id": 1, "stmt": statement})
        if code is None:
            assert answer["type"] == "response_ok", statement
        else:
            assert answer["type"] == "response_error", statement
            assert answer["error"]["code"] == code, statement


async def test_batch_conditions_ok_error_not_and_or_decide_which_steps_run(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    steps = [
        {"stmt": stmt("SELECT 'zero'")},  # 0: ok
        {"stmt": stmt("SELECT * FROM missing")},  # 1: error
        {"condition": {"type": "ok", "step": 0}, "stmt": stmt("SELECT 'ok 0'")},  # 2: runs
        {"condition": {"type": "ok", "step": 1}, "stmt": stmt("SELECT 'ok 1'")},  # 3: skipped
        {"condition": {"type": "error", "step": 1}, "stmt": stmt("SELECT 'error 1'")},  # 4: runs
        {"condition": {"type": "error", "step": 3}, "stmt": stmt("SELECT 'error 3'")},  # 5: skipped
        {
            "condition": {"type": "not", "cond": {"type": "ok", "step": 3}},
            "stmt": stmt("SELECT 'not ok 3'"),
        },  # 6: runs, a skipped step is not ok
        {
            "condition": {
                "type": "and",
                "conds": [{"type": "ok", "step": 0}, {"type": "error", "step": 1}],
            },
            "stmt": stmt("SELECT 'and'"),
        },  # 7: runs
        {
            "condition": {
                "type": "or",
                "conds": [{"type": "ok", "step": 1}, {"type": "ok", "step": 3}],
            },
            "stmt": stmt("SELECT 'or'"),
        },  # 8: skipped
        {"condition": {"type": "and", "conds": []}, "stmt": stmt("SELECT 'empty and'")},  # 9: runs
        {"condition": {"type": "or", "conds": []}, "stmt": stmt("SELECT 'empty or'")},  # 10: skip
    ]
    answer = await hrana.call({"type": "batch", "stream_id": 1, "batch": {"steps": steps}})
    result = answer["response"]["result"]
    ran = [r is not None for r in result["step_results"]]
    failed = [e is not None for e in result["step_errors"]]
    assert ran == [True, False, True, False, True, False, True, True, False, True, False]
    assert failed == [False, True] + [False] * 9
    assert result["step_errors"][1]["code"] == "SQLITE_ERROR"
    assert cell(result["step_results"][6]) == "not ok 3"


async def test_batch_condition_on_a_later_step_is_a_protocol_error(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    steps = [{"condition": {"type": "ok", "step": 0}, "stmt": stmt("SELECT 1")}]
    await hrana.send({"type": "batch", "stream_id": 1, "batch": {"steps": steps}})
    message = await hrana.ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert "Invalid reference to step" in message.extra


async def test_streams_are_separate_connections_and_closing_one_rolls_it_back(
    hrana: Hrana, database_file: Path
) -> None:
    for stream_id in (1, 2):
        await hrana.call({"type": "open_stream", "stream_id": stream_id})
    await hrana.call({"type": "execute", "stream_id": 1, "stmt": stmt("CREATE TABLE t (x)")})
    await hrana.call({"type": "execute", "stream_id": 1, "stmt": stmt("BEGIN")})
    await hrana.call({"type": "execute", "stream_id": 1, "stmt": stmt("INSERT INTO t VALUES (1)")})
    mine = await hrana.call({"type": "execute", "stream_id": 1, "stmt": stmt("SELECT * FROM t")})
    theirs = await hrana.call({"type": "execute", "stream_id": 2, "stmt": stmt("SELECT * FROM t")})
    assert len(mine["response"]["result"]["rows"]) == 1
    assert theirs["response"]["result"]["rows"] == []
    await hrana.call({"type": "close_stream", "stream_id": 1})
    conn = sqlite3.connect(database_file)
    try:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    finally:
        conn.close()


async def test_requests_sent_without_waiting_run_in_order_on_their_stream(hrana: Hrana) -> None:
    ids = [
        await hrana.send({"type": "open_stream", "stream_id": 5}),
        await hrana.send({"type": "execute", "stream_id": 5, "stmt": stmt("CREATE TABLE t (x)")}),
        *[
            await hrana.send(
                {"type": "execute", "stream_id": 5, "stmt": stmt("INSERT INTO t VALUES (?)", n)}
            )
            for n in range(20)
        ],
        await hrana.send(
            {"type": "execute", "stream_id": 5, "stmt": stmt("SELECT group_concat(x) FROM t")}
        ),
        await hrana.send({"type": "close_stream", "stream_id": 5}),
    ]
    answers = await hrana.responses(len(ids))
    assert all(answers[i]["type"] == "response_ok" for i in ids)
    last = answers[ids[-2]]["response"]["result"]
    assert cell(last) == ",".join(str(n) for n in range(20))


async def test_store_sql_and_sequence(hrana: Hrana) -> None:
    await hrana.call({"type": "open_stream", "stream_id": 1})
    sequence = await hrana.call(
        {
            "type": "sequence",
            "stream_id": 1,
            "sql": "CREATE TABLE t (x); INSERT INTO t VALUES ('a;b'); INSERT INTO t VALUES ('c');",
        }
    )
    assert sequence["response"] == {"type": "sequence"}
    await hrana.call({"type": "store_sql", "sql_id": 3, "sql": "SELECT count(*) FROM t"})
    counted = await hrana.call(
        {"type": "execute", "stream_id": 1, "stmt": {"sql_id": 3, "want_rows": True}}
    )
    assert cell(counted["response"]["result"]) == "2"
    failing = await hrana.call(
        {
            "type": "sequence",
            "stream_id": 1,
            "sql": "INSERT INTO t VALUES (1); SELEC; INSERT INTO t VALUES (2)",
        }
    )
    assert failing["type"] == "response_error"
    again = await hrana.call(
        {"type": "execute", "stream_id": 1, "stmt": {"sql_id": 3, "want_rows": True}}
    )
    assert cell(again["response"]["result"]) == "3"  # the first statement ran, the last did not
    await hrana.call({"type": "close_sql", "sql_id": 3})
    await hrana.send({"type": "execute", "stream_id": 1, "stmt": {"sql_id": 3}})
    assert (await hrana.ws.receive()).type == aiohttp.WSMsgType.CLOSE


async def test_primary_error_codes_mode_sends_what_sqld_sends(
    database_file: Path, session: Any
) -> None:
    with HranaServer(database_file, error_codes="primary") as server:
        async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
            client = Hrana(ws)
            await client.hello()
            await client.call({"type": "open_stream", "stream_id": 1})
            await client.call(
                {"type": "execute", "stream_id": 1, "stmt": stmt("CREATE TABLE t (x UNIQUE)")}
            )
            insert = {"type": "execute", "stream_id": 1, "stmt": stmt("INSERT INTO t VALUES (1)")}
            await client.call(insert)
            answer = await client.call(insert)
    assert answer["error"] == {
        "message": "SQLite error: UNIQUE constraint failed: t.x",
        "code": "SQLITE_CONSTRAINT",
    }


# --- HTTP -----------------------------------------------------------------------------------------


async def test_v1_execute_errors_answer_with_sqld_statuses(
    server: HranaServer, session: Any
) -> None:
    url = f"{server.http_url}/v1/execute"
    async with session.post(url, json={"stmt": stmt("SELECT * FROM missing")}) as response:
        assert response.status == 500
        assert (await response.json())["code"] == "SQLITE_ERROR"
    both = {"sql": "SELECT ?", "args": [value(1)], "named_args": [{"name": "a", "value": value(1)}]}
    async with session.post(url, json={"stmt": both}) as response:
        assert response.status == 501
    async with session.post(url, data=b"not json") as response:
        assert response.status == 400
        assert response.content_type == "text/plain"


async def test_v2_pipeline_keeps_a_stream_across_requests_with_fresh_batons(
    server: HranaServer, session: Any, database_file: Path
) -> None:
    async with session.get(f"{server.http_url}/v2") as probe:
        assert probe.status == 200
    first = await pipeline(
        session,
        server,
        None,
        {"type": "execute", "stmt": stmt("CREATE TABLE t (x)")},
        {"type": "execute", "stmt": stmt("BEGIN")},
        {"type": "execute", "stmt": stmt("INSERT INTO t VALUES (1)")},
    )
    body = await first.json()
    assert [r["type"] for r in body["results"]] == ["ok", "ok", "ok"]
    assert body["base_url"] is None
    baton = body["baton"]
    assert baton
    # The transaction is still open on the stream: nothing is committed yet.
    conn = sqlite3.connect(database_file)
    try:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
        second = await pipeline(
            session, server, baton, {"type": "execute", "stmt": stmt("COMMIT")}, {"type": "close"}
        )
        second_body = await second.json()
        assert second_body["baton"] is None
        assert [r["response"]["type"] for r in second_body["results"]] == ["execute", "close"]
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        conn.close()


async def test_v2_baton_is_single_use_and_forged_batons_are_refused(
    server: HranaServer, session: Any
) -> None:
    opened = await (await pipeline(session, server, None)).json()
    baton = opened["baton"]
    used = await pipeline(session, server, baton, {"type": "execute", "stmt": stmt("SELECT 1")})
    assert used.status == 200
    reused = await pipeline(session, server, baton, {"type": "execute", "stmt": stmt("SELECT 1")})
    assert reused.status == 400
    assert "already been used" in await reused.text()
    forged = baton[:-4] + ("AAAA" if not baton.endswith("AAAA") else "BBBB")
    refused = await pipeline(session, server, forged)
    assert refused.status == 400
    assert "invalid baton" in await refused.text()


async def test_v2_statement_errors_are_results_and_the_stream_lives_on(
    server: HranaServer, session: Any
) -> None:
    answer = await pipeline(
        session,
        server,
        None,
        {"type": "execute", "stmt": stmt("SELECT * FROM missing")},
        {"type": "execute", "stmt": stmt("SELECT 1")},
        {"type": "describe", "sql": "SELECT 1"},
    )
    body = await answer.json()
    assert [r["type"] for r in body["results"]] == ["error", "ok", "error"]
    assert body["results"][0]["error"]["code"] == "SQLITE_ERROR"
    assert body["results"][2]["error"]["code"] == "NOT_SUPPORTED"
    assert body["baton"] is not None


async def test_v2_idle_stream_expires_and_its_transaction_is_rolled_back(
    database_file: Path, session: Any
) -> None:
    with HranaServer(database_file, stream_expiry=0.2) as server:
        opened = await pipeline(
            session,
            server,
            None,
            {"type": "execute", "stmt": stmt("CREATE TABLE t (x)")},
            {"type": "execute", "stmt": stmt("BEGIN")},
            {"type": "execute", "stmt": stmt("INSERT INTO t VALUES (1)")},
        )
        baton = (await opened.json())["baton"]
        await asyncio.sleep(0.8)
        expired = await pipeline(
            session, server, baton, {"type": "execute", "stmt": stmt("COMMIT")}
        )
        assert expired.status == 500
        assert (await expired.json())["code"] == "STREAM_EXPIRED"
    conn = sqlite3.connect(database_file)
    try:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    finally:
        conn.close()


async def test_http_auth_token_is_checked(database_file: Path, session: Any) -> None:
    with HranaServer(database_file, auth_token="right") as server:
        url = f"{server.http_url}/v1/execute"
        body = {"stmt": stmt("SELECT 1")}
        async with session.post(url, json=body) as response:
            assert response.status == 401
        headers = {"Authorization": "Bearer right"}
        async with session.post(url, json=body, headers=headers) as response:
            assert response.status == 200
