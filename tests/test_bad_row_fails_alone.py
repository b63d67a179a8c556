"""One bad row fails alone: concurrent appends share a group commit, and a row that is refused
(up front, or by the database itself) fails only its own caller, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from entities_support import Repos, count_in, repos_for, stored_agent, stored_session

from agentsdb.db.base import Atomic, Database, FetchOne, Params, Program
from agentsdb.errors import ConnectionClosedError, DatabaseError, ValidationError
from agentsdb.models import Session, SessionLog
from agentsdb.repositories._group_commit import GroupCommit


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


async def a_session(repos: Repos) -> Session:
    return await stored_session(repos, await stored_agent(repos))


async def test_ten_good_appends_and_one_with_a_lone_surrogate_store_ten_and_refuse_one(
    repos: Repos,
) -> None:
    session = await a_session(repos)

    async def caller(content: object) -> SessionLog:
        log = SessionLog(session_id=session.id, role="user", type="message", content=content)
        return await repos.logs.append(log)

    contents: list[object] = [{"n": i} for i in range(10)]
    contents.insert(4, {"text": "bad \ud800 text"})
    outcomes = await asyncio.gather(*(caller(c) for c in contents), return_exceptions=True)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1
    assert isinstance(outcomes[4], ValidationError)
    assert "surrogate" in str(outcomes[4])
    assert [o.content for o in outcomes if isinstance(o, SessionLog)] == contents[:4] + contents[5:]
    assert await repos.logs.count(session.id) == 10


async def test_a_row_the_database_itself_refuses_fails_alone_in_a_shared_batch(
    repos: Repos,
) -> None:
    session = await a_session(repos)
    good = [
        SessionLog(session_id=session.id, role="user", type="message", content={"n": i})
        for i in range(10)
    ]
    # A copy skips validation, so the lone surrogate reaches every driver, which refuses it.
    bad = good[0].model_copy(update={"content": {"text": "\ud800"}})

    outcomes = await asyncio.gather(
        *(repos.logs.append(log) for log in [*good[:5], bad, *good[5:]]), return_exceptions=True
    )

    assert isinstance(outcomes[5], DatabaseError)
    stored = [o for o in outcomes if isinstance(o, SessionLog)]
    assert [log.content for log in stored] == [{"n": i} for i in range(10)]
    assert len({log.id for log in stored}) == 10
    assert await count_in(repos.logs.db, "session_logs") == 10
    assert bad.id is None


def echo_rows(params: list[Params]) -> Program[Sequence[int | BaseException]]:
    """A batch writer that fails its whole batch, with an error that is not the library's,
    when any row is bad: the committer alone has to keep the other rows' callers whole."""
    if any(one["n"] < 0 for one in params):
        raise TypeError("a negative row spoils this batch")
    rows = yield Atomic(tuple(FetchOne("SELECT CAST(:n AS INTEGER) AS n", one) for one in params))
    return [int(row["n"]) for row in rows]


async def test_the_group_committer_retries_a_failed_batch_row_by_row_so_only_the_bad_row_fails(
    migrated_any_db: Database,
) -> None:
    committer: GroupCommit[int] = GroupCommit(migrated_any_db, echo_rows)
    values = [*range(1, 6), -1, *range(6, 11)]

    outcomes = await asyncio.gather(
        *(committer.submit({"n": n}) for n in values), return_exceptions=True
    )

    assert outcomes[:5] == [1, 2, 3, 4, 5]
    assert isinstance(outcomes[5], TypeError)
    assert outcomes[6:] == [6, 7, 8, 9, 10]


async def test_an_error_about_the_whole_batch_is_not_retried_row_by_row(
    migrated_any_db: Database,
) -> None:
    batches: list[int] = []

    def closed(params: list[Params]) -> Program[Sequence[int | BaseException]]:
        batches.append(len(params))
        raise ConnectionClosedError("the database is closed")
        yield  # a program is a generator

    committer: GroupCommit[int] = GroupCommit(migrated_any_db, closed)
    outcomes = await asyncio.gather(
        *(committer.submit({"n": n}) for n in range(4)), return_exceptions=True
    )

    assert all(isinstance(o, ConnectionClosedError) for o in outcomes)
    assert batches == [4]
