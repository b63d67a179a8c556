"""The libsql-client internals agentsdb uses (agentsdb.db.libsql.internals) agree with the
client's public API, on a real sqld over both transports.

libsql-client has no public way to send a batch of our own making (the foreign-keys-off batch
of a table rebuild), so agentsdb uses its converters and transport. If a release changes them,
these tests fail, before a migration does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqld_server import SqldServer

from agentsdb.db.libsql import internals

libsql_client = pytest.importorskip("libsql_client")

STATEMENT = "SELECT :n AS n, :t AS t, :b AS b, :f AS f, :z AS z"
ARGS = {"n": 7, "t": "héllo, wörld", "b": b"\x00\x01\xff", "f": 1.5, "z": None}
FAILING = "SELECT * FROM no_such_table"


@pytest.fixture(params=["ws", "http"])
async def client(request: pytest.FixtureRequest, sqld: SqldServer) -> AsyncIterator[Any]:
    url = sqld.ws_url if request.param == "ws" else sqld.http_url
    driver_client = libsql_client.create_client(url)
    try:
        yield driver_client
    finally:
        await driver_client.close()


async def raw_batch(client: Any, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch sent through the private transport of the client's kind (HTTP or WebSocket)."""
    batch = {"steps": steps}
    if isinstance(client, libsql_client.http.HttpClient):
        reply = await internals.post(client, "v1/batch", {"batch": batch})
        result: dict[str, Any] = reply["result"]
        return result
    with internals.open_stream(client) as stream:
        pending = stream.batch(batch)
    result = await pending
    return result


async def test_a_statement_sent_through_the_internals_reads_back_as_the_public_execute_reads_it(
    client: Any,
) -> None:
    public = await client.execute(STATEMENT, ARGS)
    result = await raw_batch(client, [{"stmt": internals.statement_to_proto(STATEMENT, ARGS)}])
    private = internals.result_set_from_proto(result["step_results"][0])
    assert type(private) is type(public)
    assert list(private.columns) == list(public.columns) == ["n", "t", "b", "f", "z"]
    assert [row.asdict() for row in private.rows] == [row.asdict() for row in public.rows]
    assert public.rows[0].asdict() == ARGS


async def test_a_failing_statement_decodes_to_the_error_the_public_execute_raises(
    client: Any,
) -> None:
    with pytest.raises(libsql_client.LibsqlError) as public:
        await client.execute(FAILING)
    result = await raw_batch(client, [{"stmt": internals.statement_to_proto(FAILING, None)}])
    private = internals.error_from_proto(result["step_errors"][0])
    assert type(private) is type(public.value)
    assert private.code == public.value.code
    assert "no_such_table" in str(private)
    assert "no_such_table" in str(public.value)
