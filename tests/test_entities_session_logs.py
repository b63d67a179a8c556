"""Session logs on every backend of ``migrated_any_db``: group commit, per-row failure isolation,
all-or-nothing bulk appends, keyset pages under concurrent appends, and the per-session tree.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from entities_support import (
    RecordingDatabase,
    Repos,
    count_in,
    repos_for,
    stored_agent,
    stored_session,
)

import agentsdb
from agentsdb.db.base import Atomic, Commit, Database, ExecuteMany, FetchAll, FetchOne
from agentsdb.errors import (
    ConnectionClosedError,
    ForeignKeyViolationError,
    NotFoundError,
)
from agentsdb.models import Session, SessionLog, SessionLogUpdate
from agentsdb.repositories import SessionLogRepository


@pytest.fixture
def repos(migrated_any_db: Database) -> Repos:
    return repos_for(migrated_any_db)


def log_of(session: Session, **fields: object) -> SessionLog:
    values: dict[str, object] = {"role": "agent", "type": "message", "content": {"text": "hi"}}
    values.update(fields)
    return SessionLog(session_id=session.id, **values)


async def two_sessions(repos: Repos) -> tuple[Session, Session]:
    agent = await stored_agent(repos)
    return await stored_session(repos, agent), await stored_session(repos, agent)


async def test_a_log_whose_parent_is_in_another_session_is_refused(repos: Repos) -> None:
    first, second = await two_sessions(repos)
    parent = await repos.logs.append(log_of(first))
    with pytest.raises(ForeignKeyViolationError):
        await repos.logs.append(log_of(second, parent_id=parent.id))
    child = await repos.logs.append(log_of(first, parent_id=parent.id))
    assert child.parent_id == parent.id
    assert await repos.logs.count(second.id) == 0


async def test_appends_return_the_stored_row_with_increasing_ids(repos: Repos) -> None:
    session, _ = await two_sessions(repos)
    stored = [await repos.logs.append(log_of(session, content={"n": i})) for i in range(5)]
    ids = [log.id for log in stored]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids)
    for log in stored:
        assert log.id is not None
        assert await repos.logs.get(log.id) == log
    # Stored as a JSON document (JSON text on SQLite, a JSONB object on PostgreSQL), not as a
    # JSON string holding the text; the timestamp in the clock format.
    row = await repos.logs.db.fetch_one(
        "SELECT CAST(content AS TEXT) AS content, created_at FROM session_logs WHERE id = :id",
        {"id": ids[2]},
    )
    assert row is not None
    assert json.loads(row["content"]) == {"n": 2}
    assert row["created_at"] == stored[2].to_params()["created_at"]
    assert row["created_at"].endswith("Z")


async def test_concurrent_appends_share_transactions_and_each_gets_its_own_row(
    migrated_any_db: Database,
) -> None:
    recording = RecordingDatabase(migrated_any_db)
    repos = repos_for(recording)
    session, other = await two_sessions(repos)
    programs_before = recording.programs
    logs = [log_of(session if i % 2 else other, content={"n": i}) for i in range(64)]
    stored = await asyncio.gather(*(repos.logs.append(log) for log in logs))
    units = sum(isinstance(op, Commit | Atomic) for op in recording.operations)
    assert recording.programs - programs_before < 64 / 4
    assert 0 < units < 64 / 4
    # Each shared unit inserts its rows the backend's way (Database.insert_rows), in fewer
    # statements than rows: not one INSERT per appended row.
    inserts = [
        op
        for op in recording.operations
        if isinstance(op, ExecuteMany | FetchAll | FetchOne) and op.sql.startswith("INSERT")
    ]
    assert 0 < len(inserts) < 64 / 4
    assert len({log.id for log in stored}) == 64
    for log, original in zip(stored, logs, strict=True):
        assert log.content == original.content
        assert log.session_id == original.session_id
        assert log.id is not None
        assert await repos.logs.get(log.id) == log
    assert await count_in(migrated_any_db, "session_logs") == 64


async def test_a_bad_row_in_a_shared_batch_fails_alone_and_the_others_commit(
    repos: Repos,
) -> None:
    first, second = await two_sessions(repos)
    parent = await repos.logs.append(log_of(first))
    good = [log_of(first, content={"n": i}) for i in range(6)]
    bad = log_of(second, parent_id=parent.id)  # parent from another session
    missing = log_of(Session(main_agent_id="x"))  # session that does not exist
    outcomes = await asyncio.gather(
        *(repos.logs.append(log) for log in [*good[:3], bad, *good[3:], missing]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[3], ForeignKeyViolationError)
    assert isinstance(outcomes[7], ForeignKeyViolationError)
    stored = [o for o in outcomes if isinstance(o, SessionLog)]
    assert [log.content for log in stored] == [{"n": i} for i in range(6)]
    assert await count_in(repos.logs.db, "session_logs") == 7
    assert await repos.logs.count(second.id) == 0
    assert bad.id is None  # refused rows get no id and can be appended again once fixed
    assert missing.id is None


async def test_an_appended_log_gets_its_id_and_the_same_object_is_refused_again(
    repos: Repos,
) -> None:
    session, _ = await two_sessions(repos)
    log = log_of(session)
    stored = await repos.logs.append(log)
    assert stored is log
    assert log.id is not None
    assert "id" in log.model_fields_set
    with pytest.raises(ValueError, match="already stored"):
        await repos.logs.append(log)
    batch = [log_of(session) for _ in range(3)]
    assert await repos.logs.append_many(batch) == batch
    with pytest.raises(ValueError, match="already stored"):
        await repos.logs.append_many(batch)
    assert await repos.logs.count(session.id) == 4


async def test_append_many_stores_all_rows_in_order_with_their_ids(repos: Repos) -> None:
    session, _ = await two_sessions(repos)
    await repos.logs.append(log_of(session))
    logs = [log_of(session, content={"n": i}) for i in range(300)]
    stored = await repos.logs.append_many(logs)
    assert [log.content for log in stored] == [{"n": i} for i in range(300)]
    for log in stored[::37]:
        assert log.id is not None
        assert await repos.logs.get(log.id) == log
    assert await repos.logs.append_many([]) == []


async def test_append_many_of_more_than_one_message_holds_is_stored_whole(repos: Repos) -> None:
    session, _ = await two_sessions(repos)
    # About 5 MB of statements. Over ws a batch is one message, and a server closes the socket on
    # a message over its limit (sqld: 10 MB passed, 20 MB did not), so this many go as a
    # transaction. Over HTTP they are one request, which sqld takes whole (80 MB did).
    logs = [log_of(session, content={"n": i, "text": "x" * 1000}) for i in range(5000)]
    stored = await repos.logs.append_many(logs)
    assert len({log.id for log in stored}) == 5000
    assert await repos.logs.count(session.id) == 5000
    assert stored[-1].id is not None
    assert await repos.logs.get(stored[-1].id) == stored[-1]


async def test_append_many_is_all_or_nothing(repos: Repos) -> None:
    first, second = await two_sessions(repos)
    parent = await repos.logs.append(log_of(first))
    batch = [log_of(first) for _ in range(10)]
    batch.insert(5, log_of(second, parent_id=parent.id))
    with pytest.raises(ForeignKeyViolationError):
        await repos.logs.append_many(batch)
    assert await count_in(repos.logs.db, "session_logs") == 1


async def test_keyset_pages_return_every_row_exactly_once_while_rows_are_appended(
    repos: Repos,
) -> None:
    session, _ = await two_sessions(repos)
    await repos.logs.append_many([log_of(session, content={"n": i}) for i in range(50)])
    total = 50 + 8 * 40
    done = asyncio.Event()

    async def appender(worker: int) -> None:
        for i in range(40):
            await repos.logs.append(log_of(session, content={"w": worker, "i": i}))

    async def append_all() -> None:
        await asyncio.gather(*(appender(w) for w in range(8)))
        done.set()

    seen: list[int] = []

    async def reader() -> None:
        after = None
        while True:
            finished = done.is_set()
            page = await repos.logs.page(session.id, after=after, limit=7)
            seen.extend(log.id for log in page if log.id is not None)
            if page:
                after = page[-1].id
            elif finished:
                return
            await asyncio.sleep(0)

    await asyncio.gather(append_all(), reader())
    assert len(seen) == total
    assert seen == sorted(set(seen))
    everything = await repos.logs.page(session.id, limit=1000)
    assert [log.id for log in everything] == seen


async def test_tree_nests_children_under_their_parents(repos: Repos) -> None:
    session, other = await two_sessions(repos)
    root = await repos.logs.append(log_of(session, role="user", content="question"))
    thought = await repos.logs.append(
        log_of(session, parent_id=root.id, type="thought", content="hmm")
    )
    action = await repos.logs.append(
        log_of(session, parent_id=thought.id, type="action", content={"tool": "search"})
    )
    answer = await repos.logs.append(log_of(session, parent_id=root.id, content="answer"))
    second_root = await repos.logs.append(log_of(session, role="user", content="thanks"))
    await repos.logs.append(log_of(other))
    tree = await repos.logs.tree(session.id)
    assert [node.log.id for node in tree] == [root.id, second_root.id]
    assert [node.log.id for node in tree[0].children] == [thought.id, answer.id]
    assert [node.log.id for node in tree[0].children[0].children] == [action.id]
    assert tree[1].children == []


async def test_latest_count_update_and_delete_for_session(repos: Repos) -> None:
    session, other = await two_sessions(repos)
    stored = await repos.logs.append_many([log_of(session, content=i) for i in range(10)])
    await repos.logs.append(log_of(other))
    assert [log.content for log in await repos.logs.latest(session.id, limit=3)] == [7, 8, 9]
    assert [log.content for log in await repos.logs.latest(session.id)] == [9]
    assert stored[0].id is not None
    updated = await repos.logs.update(stored[0].id, SessionLogUpdate(metadata={"edited": True}))
    assert updated.metadata == {"edited": True}
    assert updated.content == 0
    assert updated.updated_at > stored[0].updated_at
    with pytest.raises(NotFoundError):
        await repos.logs.update(999_999, SessionLogUpdate(content="x"))
    assert await repos.logs.count(session.id) == 10
    assert await repos.logs.delete_for_session(session.id) == 10
    assert await repos.logs.count(session.id) == 0
    assert await repos.logs.count(other.id) == 1


async def test_deleting_a_parent_log_deletes_its_subtree(repos: Repos) -> None:
    session, _ = await two_sessions(repos)
    root = await repos.logs.append(log_of(session))
    child = await repos.logs.append(log_of(session, parent_id=root.id))
    await repos.logs.append(log_of(session, parent_id=child.id))
    keep = await repos.logs.append(log_of(session))
    await repos.logs.db.execute("DELETE FROM session_logs WHERE id = :id", {"id": root.id})
    assert [log.id for log in await repos.logs.page(session.id)] == [keep.id]


async def test_an_append_cancelled_before_its_batch_is_taken_is_not_written(
    repos: Repos,
) -> None:
    session, _ = await two_sessions(repos)
    kept = asyncio.ensure_future(repos.logs.append(log_of(session, content="kept")))
    dropped = asyncio.ensure_future(repos.logs.append(log_of(session, content="dropped")))
    await asyncio.sleep(0)  # both are queued; the batch has not been taken yet
    dropped.cancel()
    stored = await kept
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert [log.content for log in await repos.logs.page(session.id)] == [stored.content]


async def test_appends_on_a_closed_database_fail_and_nothing_waits_forever(
    db_path: Path,
) -> None:
    db = await agentsdb.connect(str(db_path))
    await agentsdb.Migrator(db).migrate()
    repos = repos_for(db)
    session, _ = await two_sessions(repos)
    await db.close()
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(repos.logs.append(log_of(session)) for _ in range(5)), return_exceptions=True
        ),
        timeout=5,
    )
    assert all(isinstance(o, ConnectionClosedError) for o in outcomes)


async def test_repositories_on_one_database_share_one_append_queue(
    migrated_any_db: Database,
) -> None:
    recording = RecordingDatabase(migrated_any_db)
    repos = repos_for(recording)
    session, _ = await two_sessions(repos)
    before = recording.programs
    separate = [SessionLogRepository(recording) for _ in range(8)]
    await asyncio.gather(*(repo.append(log_of(session)) for repo in separate))
    assert recording.programs - before < 8


async def test_bulk_appends_from_two_connections_at_once_each_get_their_own_ids(
    migrated_any_db: Database, backend_url: str
) -> None:
    # Two connections inserting at the same time: on a server the ids of one batch may
    # interleave with the other's, and each entry must still get the id of its own row.
    repos = repos_for(migrated_any_db)
    session, other = await two_sessions(repos)
    async with agentsdb.connect(backend_url) as second_db:
        second = repos_for(second_db)
        stored = await asyncio.gather(
            *(
                writer.logs.append_many([log_of(target, content={"n": i}) for i in range(300)])
                for _ in range(3)
                for writer, target in ((repos, session), (second, other))
            )
        )
    for logs in stored:
        for log in logs:
            assert log.id is not None
            assert await repos.logs.get(log.id) == log
    assert await repos.logs.count(session.id) == 900
    assert await repos.logs.count(other.id) == 900


async def test_a_row_the_database_rejects_as_bad_data_fails_alone_in_a_shared_batch(
    postgres_db: Database,
) -> None:
    await agentsdb.Migrator(postgres_db).migrate()
    repos = repos_for(postgres_db)
    agent = await stored_agent(repos)
    session = await stored_session(repos, agent)
    good = [
        SessionLog(session_id=session.id, role="agent", type="message", content={"n": i})
        for i in range(3)
    ]
    # PostgreSQL's JSONB refuses \u0000 (a data error, not a constraint violation). The model
    # refuses it up front; a copy without validation reaches the database.
    bad = good[0].model_copy(update={"content": {"t": "a\x00b"}})

    outcomes = await asyncio.gather(
        *(repos.logs.append(log) for log in [good[0], bad, *good[1:]]), return_exceptions=True
    )

    stored = [o for o in outcomes if isinstance(o, SessionLog)]
    assert [log.content for log in stored] == [{"n": i} for i in range(3)]
    assert await repos.logs.count(session.id) == 3
