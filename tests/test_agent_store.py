"""The AgentStore, its read models and the catch-up projector: one contract suite, every backend."""

from __future__ import annotations

import asyncio
import functools
import operator
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

import pytest
from agent_store_support import (
    GatedStore,
    Ticker,
    new_agent,
    read_model_rows,
    run_steps,
    suspend,
    suspended_agent,
)
from entities_support import RecordingDatabase

import agentsdb
from agentsdb.aggregate import (
    AgentAggregate,
    AgentNotFoundError,
    AgentProjection,
    AgentReadModel,
    AgentStore,
    AssignmentRole,
    ClientResponse,
    ExecutionAlreadyResumedError,
    RetriesExhaustedError,
    SessionAlreadyActiveError,
)
from agentsdb.db.base import Database
from agentsdb.events import ConcurrencyError, EventStore, Projector, ProjectorConflictError
from agentsdb.events.types import EventPage

RESPONSE = ClientResponse(call_id="t1", payload={"answer": 4})


@pytest.fixture
def clock() -> Ticker:
    return Ticker()


# --- loading and saving --------------------------------------------------------------------------


async def test_a_saved_agent_loads_back_with_the_same_state_and_version(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    agent.start_session("c1", now=clock())
    agent.assign_user("u2", AssignmentRole.SHARED, "u1", now=clock())
    suspend(agent, "t1", clock)
    result = await store.save(agent)

    assert result is not None
    assert result.last_version == 5
    assert agent.version == 5
    assert agent.pending_events == []
    loaded = await AgentStore(migrated_any_db).load(agent.id)
    assert loaded.state == agent.state
    assert loaded.version == 5
    assert loaded.is_suspended()
    assert loaded.has_active_session()


async def test_saving_twice_appends_only_the_new_events(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)
    assert await store.save(agent) is None
    agent.start_session("c1", now=clock())
    await store.save(agent)

    events = await store.events.read_stream(agent.stream_id)
    assert [event.version for event in events] == [1, 2]


async def test_loading_an_agent_that_does_not_exist_raises_agent_not_found(
    migrated_any_db: Database, clock: Ticker
) -> None:
    missing = new_agent(clock).id
    with pytest.raises(AgentNotFoundError, match=f"agent '{missing}' does not exist"):
        await AgentStore(migrated_any_db).load(missing)
    assert await AgentStore(migrated_any_db).find(missing) is None


async def test_a_new_agent_whose_id_exists_is_refused_by_the_event_store(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    first = new_agent(clock)
    await store.save(first)
    twin = new_agent(clock, "u9", agent_id=first.id)
    with pytest.raises(
        ConcurrencyError, match="expected NO_STREAM, but the stream is at version 1"
    ):
        await store.save(twin)
    assert (await store.load(first.id)).state.owner_user_id == "u1"


async def test_a_snapshot_is_written_every_n_events_and_when_a_session_ends(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, snapshot_every=4)
    agent = new_agent(clock)
    agent.start_session("c1", now=clock())
    await store.save(agent)  # versions 1-2
    assert await store.events.load_snapshot(agent.stream_id) is None

    for n in range(3):
        agent.update_preferences({"n": n}, now=clock())
        await store.save(agent)  # versions 3, 4 (crosses 4), 5
    snapshot = await store.events.load_snapshot(agent.stream_id)
    assert snapshot is not None
    assert snapshot.version == 4

    agent.complete_session("done", now=clock())
    await store.save(agent)  # version 6 ends a session
    snapshot = await store.events.load_snapshot(agent.stream_id)
    assert snapshot is not None
    assert snapshot.version == 6
    assert snapshot.schema_version == AgentAggregate.STATE_SCHEMA_VERSION
    assert snapshot.state == agent.to_snapshot()


async def test_load_starts_from_the_snapshot_and_replays_only_later_events(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)
    # A snapshot that differs from the events: only a load that starts from it sees "renamed".
    state = {**agent.to_snapshot(), "name": "renamed"}
    await store.events.save_snapshot(agent.stream_id, 1, AgentAggregate.STATE_SCHEMA_VERSION, state)
    agent.start_session("c1", now=clock())
    await store.save(agent)

    loaded = await store.load(agent.id)
    assert loaded.state.name == "renamed"
    assert loaded.version == 2
    assert loaded.has_active_session()


async def test_loading_an_agent_reads_its_snapshot_and_later_events_in_one_statement(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, snapshot_every=3)
    agent = new_agent(clock)
    for turn in range(4):  # a snapshot at version 3, then two more events
        agent.update_preferences({"turn": turn}, now=clock())
        await store.save(agent)
    snapshot = await store.events.load_snapshot(agent.stream_id)
    assert snapshot is not None
    assert (snapshot.version, agent.version) == (3, 5)
    recording = RecordingDatabase(migrated_any_db)

    loaded = await AgentStore(cast(Database, recording), cache_size=0).load(agent.id)

    assert len(recording.statements) == 1
    assert loaded.version == 5
    assert loaded.state == agent.state


class RewrittenAfterTheFirstRead:
    """A real database where, right after the first read it serves, another writer deletes the
    agent's stream and writes it again (``rewrite``)."""

    def __init__(self, inner: Database, rewrite: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self._rewrite: Callable[[], Awaitable[None]] | None = rewrite

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def _after_a_read(self) -> None:
        rewrite, self._rewrite = self._rewrite, None
        if rewrite is not None:
            await rewrite()

    async def fetch_one(self, sql: str, params: Any = None) -> Any:
        row = await self.inner.fetch_one(sql, params)
        await self._after_a_read()
        return row

    async def fetch_all(self, sql: str, params: Any = None) -> Any:
        rows = await self.inner.fetch_all(sql, params)
        await self._after_a_read()
        return rows

    async def fetch_values(self, sql: str, params: Any = None) -> Any:
        rows = await self.inner.fetch_values(sql, params)
        await self._after_a_read()
        return rows


async def test_a_load_never_pairs_a_snapshot_with_the_events_of_a_rewritten_stream(
    migrated_any_db: Database, clock: Ticker
) -> None:
    def generation(name: str, agent_id: str | None = None) -> AgentAggregate:
        agent = new_agent(clock, name=name, agent_id=agent_id)
        for turn in (1, 2):
            agent.update_preferences({"gen": f"{name}-{turn}"}, now=clock())
        return agent

    old = generation("old")
    await AgentStore(migrated_any_db, snapshot_every=3).save(old)  # a snapshot at version 3
    old.update_preferences({"gen": "old-3"}, now=clock())
    await AgentStore(migrated_any_db, snapshot_every=3).save(old)  # version 4, after it

    async def rewrite() -> None:
        writer = AgentStore(migrated_any_db, snapshot_every=10**9)
        await writer.delete(old.id)
        new = generation("new", agent_id=old.id)
        new.update_preferences({"gen": "new-3"}, now=clock())
        await writer.save(new)  # versions 1-4 again, no snapshot

    racing = RewrittenAfterTheFirstRead(migrated_any_db, rewrite)
    loaded = await AgentStore(cast(Database, racing), cache_size=0).load(old.id)

    # Either stream as a whole, never the old snapshot with the new stream's events.
    mixed = (loaded.state.name, loaded.state.preferences["gen"])
    assert mixed in {("old", "old-3"), ("new", "new-3")}, mixed


async def test_a_snapshot_of_another_state_schema_is_ignored_and_rebuilt(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    agent.start_session("c1", now=clock())
    await store.save(agent)
    stale = AgentAggregate.STATE_SCHEMA_VERSION + 1
    await store.events.save_snapshot(agent.stream_id, 2, stale, {"not": "a state"})

    loaded = await store.load(agent.id)

    assert loaded.state == agent.state
    assert loaded.version == 2
    snapshot = await store.events.load_snapshot(agent.stream_id)
    assert snapshot is not None
    assert snapshot.schema_version == AgentAggregate.STATE_SCHEMA_VERSION
    assert snapshot.state == agent.to_snapshot()


# --- retries and duplicate deliveries ------------------------------------------------------------


async def test_execute_retries_a_lost_race_and_rechecks_the_rules_on_fresh_state(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    agent = new_agent(clock)
    await AgentStore(migrated_any_db).save(agent)
    gate = asyncio.Barrier(2)
    calls: list[int] = []

    def start(conversation: str) -> Any:
        def command(loaded: AgentAggregate) -> Any:
            calls.append(loaded.version)
            return loaded.start_session(conversation, now=clock())

        return command

    async with agentsdb.connect(backend_url) as other:
        results = await asyncio.gather(
            GatedStore(migrated_any_db, gate).execute(agent.id, start("c1")),
            GatedStore(other, gate).execute(agent.id, start("c2")),
            return_exceptions=True,
        )

    errors = [result for result in results if isinstance(result, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], SessionAlreadyActiveError)
    assert sorted(calls) == [1, 1, 2]  # the loser ran again on the winner's version
    loaded = await AgentStore(migrated_any_db).load(agent.id)
    assert loaded.version == 2
    assert loaded.state.total_sessions == 1


async def test_execute_gives_up_after_max_retries(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    agent = new_agent(clock)
    await AgentStore(migrated_any_db).save(agent)
    gate = asyncio.Barrier(2)

    def rename(n: int) -> Any:
        return lambda loaded: loaded.update_preferences({"n": n}, now=clock())

    async with agentsdb.connect(backend_url) as other:
        results = await asyncio.gather(
            GatedStore(migrated_any_db, gate, max_retries=0).execute(agent.id, rename(1)),
            GatedStore(other, gate, max_retries=0).execute(agent.id, rename(2)),
            return_exceptions=True,
        )

    errors = [result for result in results if isinstance(result, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], RetriesExhaustedError)
    assert "1 attempts" in str(errors[0])
    assert (await AgentStore(migrated_any_db).load(agent.id)).version == 2


async def test_concurrent_commands_on_several_connections_all_land_once_each(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    agent = new_agent(clock)
    await AgentStore(migrated_any_db).save(agent)

    async def worker(db: Database, name: str) -> None:
        store = AgentStore(db, max_retries=100, snapshot_every=3)
        for n in range(4):
            change = {f"{name}-{n}": n}
            await store.execute(
                agent.id, lambda loaded, change=change: loaded.update_preferences(change)
            )

    async with agentsdb.connect(backend_url) as second, agentsdb.connect(backend_url) as third:
        await asyncio.gather(worker(migrated_any_db, "a"), worker(second, "b"), worker(third, "c"))

    loaded = await AgentStore(migrated_any_db).load(agent.id)
    assert loaded.version == 13
    assert loaded.state.preferences == {f"{w}-{n}": n for w in "abc" for n in range(4)}
    summary = await AgentReadModel(migrated_any_db).get(agent.id)
    assert summary.version == 13


async def test_a_client_response_delivered_twice_records_nothing_the_second_time(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent_id = await suspended_agent(store, clock)

    def receive(agent: AgentAggregate) -> bool:
        return agent.receive_client_response(RESPONSE, now=clock())

    assert await store.execute(agent_id, receive) is True
    version = (await store.load(agent_id)).version
    assert await store.execute(agent_id, receive) is False
    assert (await store.load(agent_id)).version == version
    assert (await store.load(agent_id)).state.total_interactions == 1


async def test_a_resume_delivered_twice_records_nothing_and_refuses_the_second_time(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, clock=clock)
    agent_id = await suspended_agent(store, clock)

    state = await store.resume(agent_id, RESPONSE)
    assert state.pending_tool_call is not None
    assert state.pending_tool_call.call_id == "t1"
    version = (await store.load(agent_id)).version
    with pytest.raises(ExecutionAlreadyResumedError, match="'t1' was already resumed"):
        await store.resume(agent_id, RESPONSE)
    assert (await store.load(agent_id)).version == version


async def test_two_workers_resuming_the_same_suspension_exactly_one_wins(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    agent_id = await suspended_agent(AgentStore(migrated_any_db), clock)
    gate = asyncio.Barrier(2)

    async with agentsdb.connect(backend_url) as other:
        results = await asyncio.gather(
            GatedStore(migrated_any_db, gate, clock=clock).resume(agent_id, RESPONSE),
            GatedStore(other, gate, clock=clock).resume(agent_id, RESPONSE),
            return_exceptions=True,
        )

    errors = [result for result in results if isinstance(result, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ExecutionAlreadyResumedError)
    events = await EventStore(migrated_any_db).read_stream(f"agent-{agent_id}")
    types = [event.type for event in events]
    assert types.count("agent.execution.resumed.v1") == 1
    assert types.count("agent.client.response.received.v1") == 1
    assert [event.version for event in events] == list(range(1, len(events) + 1))


# --- read models ---------------------------------------------------------------------------------


async def _busy_history(store: AgentStore, clock: Ticker) -> list[str]:
    """Three agents with sessions ended, suspended and assigned: the ids, in creation order."""
    ids = []
    for owner in ("u1", "u1", "u2"):
        agent = new_agent(clock, owner)
        await store.save(agent)
        ids.append(agent.id)
    first = await store.load(ids[0])
    for n in range(3):
        first.start_session(f"c{n}", now=clock())
        suspend(first, f"call-{n}", clock)
        await store.save(first)
        first.resume_execution(ClientResponse(call_id=f"call-{n}", payload={}), now=clock())
        if n == 1:
            first.terminate_session("user left", now=clock())
        else:
            first.complete_session(f"session {n}", now=clock())
        await store.save(first)
    first.start_session("c-active", now=clock())
    suspend(first, "call-active", clock)
    first.assign_user("u3", AssignmentRole.OBSERVER, "u1", now=clock())
    await store.save(first)
    third = await store.load(ids[2])
    third.assign_user("u1", AssignmentRole.MENTEE, "u2", now=clock())
    third.start_session("c9", now=clock())
    third.complete_session(None, now=clock())
    third.archive("done", now=clock())
    await store.save(third)
    return ids


async def test_inline_read_models_equal_the_ones_the_projector_rebuilds(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    await _busy_history(store, clock)
    inline = await read_model_rows(migrated_any_db)
    assert len(inline["agent_session_history"]) == 5

    projector = Projector(migrated_any_db, store.events, AgentProjection(store.events), page_size=3)
    projected = await projector.rebuild()

    assert projected == len(await store.events.read_all(after=0, limit=1000))
    assert await read_model_rows(migrated_any_db) == inline


async def test_the_projector_projects_each_event_once_and_a_replay_changes_nothing(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, project_inline=False)
    await _busy_history(store, clock)
    assert (await read_model_rows(migrated_any_db))["agent_summaries"] == []
    projection = AgentProjection(store.events)
    projector = Projector(migrated_any_db, store.events, projection, page_size=4)

    everything = await store.events.read_all(after=0, limit=1000)
    assert await projector.catch_up() == len(everything)
    assert await projector.position() == everything[-1].position
    assert await projector.catch_up() == 0
    rows = await read_model_rows(migrated_any_db)

    # Replaying pages already projected (a crash after the commit, before the caller knew)
    # is a no-op, whichever pages are replayed.
    for start in range(0, len(everything), 4):
        await run_steps(migrated_any_db, await projection.steps_for(everything[start : start + 4]))
    await run_steps(migrated_any_db, await projection.steps_for(everything[:3]))
    assert await read_model_rows(migrated_any_db) == rows


async def test_the_projector_refuses_to_move_a_position_another_projector_moved(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, project_inline=False)
    await _busy_history(store, clock)
    winner = Projector(migrated_any_db, store.events, AgentProjection(store.events), page_size=5)

    class Interleaved:
        """Reads a page, then lets the other projector commit its page first."""

        async def read_page(
            self, *, after: int = 0, limit: int = 1000, types: Iterable[str] | None = None
        ) -> EventPage:
            page = await store.events.read_page(after=after, limit=limit, types=types)
            await winner.run_once()
            return page

    loser = Projector(migrated_any_db, Interleaved(), AgentProjection(store.events), page_size=5)
    with pytest.raises(ProjectorConflictError, match="expected to move on from position 0"):
        await loser.run_once()
    fifth = (await store.events.read_all(after=0, limit=5))[-1].position
    assert await winner.position() == fifth


async def test_read_model_queries_and_their_keyset_pages(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    ids = await _busy_history(store, clock)
    queries = AgentReadModel(migrated_any_db)

    first = await queries.get(ids[0])
    assert (first.owner_user_id, first.status, first.name) == ("u1", "active", "tutor")
    assert first.has_active_session
    assert first.is_suspended
    assert (first.total_sessions, first.successful_completions, first.total_interactions) == (
        4,
        2,
        3,
    )
    assert [(a.user_id, a.role) for a in first.assignments] == [("u3", "observer")]
    assert first.version == (await store.load(ids[0])).version
    archived = await queries.get(ids[2])
    assert archived.status == "archived"
    assert archived.archived_at is not None

    pages: list[list[str]] = []
    after = None
    while page := await queries.list_for_user("u1", after=after, limit=2):
        pages.append([summary.agent_id for summary in page])
        after = page[-1].agent_id
    assert [len(page) for page in pages] == [2, 1]
    assert functools.reduce(operator.iadd, pages, []) == sorted(ids)
    roles = {s.agent_id: s.user_role for s in await queries.list_for_user("u1", limit=10)}
    assert roles == {ids[0]: "owner", ids[1]: "owner", ids[2]: "mentee"}
    assert [s.agent_id for s in await queries.list_for_user("u3")] == [ids[0]]

    active = await queries.active_session(ids[0])
    assert active is not None
    assert active.status == "suspended"
    assert active.seq == 4
    assert active.conversation_id == "c-active"
    assert await queries.active_session(ids[1]) is None

    history: list[tuple[int, str, str | None]] = []
    before = None
    while page := await queries.session_history(ids[0], before=before, limit=3):
        history.extend((s.seq, s.status, s.summary) for s in page)
        before = page[-1].seq
    assert history == [
        (4, "suspended", None),
        (3, "completed", "session 2"),
        (2, "terminated", None),
        (1, "completed", "session 0"),
    ]
    terminated = (await queries.session_history(ids[0], before=3, limit=1))[0]
    assert terminated.end_reason == "user left"
    assert terminated.interactions == 1


async def test_read_model_queries_refuse_bad_limits_and_unknown_agents(
    migrated_any_db: Database, clock: Ticker
) -> None:
    queries = AgentReadModel(migrated_any_db)
    missing = new_agent(clock).id
    with pytest.raises(agentsdb.errors.NotFoundError, match=missing):
        await queries.get(missing)
    assert await queries.find(missing) is None
    for limit in (0, 1001, True):
        with pytest.raises(ValueError, match="limit must be a whole number from 1 to 1000"):
            await queries.list_for_user("u1", limit=limit)


async def test_deleting_an_agent_stream_removes_its_read_model_rows(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    ids = await _busy_history(store, clock)
    kept = await read_model_rows(migrated_any_db)

    await store.events.delete_stream(f"agent-{ids[0]}")

    rows = await read_model_rows(migrated_any_db)
    for table, before in kept.items():
        assert rows[table] == [row for row in before if row["agent_id"] != ids[0]], table
    assert await AgentStore(migrated_any_db).find(ids[0]) is None
    assert await store.events.load_snapshot(f"agent-{ids[0]}") is None


async def test_any_event_store_erases_the_read_model_rows_of_a_deleted_agent_stream(
    migrated_any_db: Database, clock: Ticker
) -> None:
    ids = await _busy_history(AgentStore(migrated_any_db), clock)
    kept = await read_model_rows(migrated_any_db)

    # A store of its own, with no eraser registered: an erasure request must still be complete.
    await EventStore(migrated_any_db).delete_stream(f"agent-{ids[0]}")

    rows = await read_model_rows(migrated_any_db)
    for table, before in kept.items():
        assert any(row["agent_id"] == ids[0] for row in before), table
        assert rows[table] == [row for row in before if row["agent_id"] != ids[0]], table


async def test_a_projector_page_read_before_an_erasure_leaves_no_rows_of_the_erased_agent(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, project_inline=False)
    ids = await _busy_history(store, clock)

    class EraseAfterReading:
        """Reads a page, then erases the first agent before the page is projected."""

        async def read_page(
            self, *, after: int = 0, limit: int = 1000, types: Iterable[str] | None = None
        ) -> EventPage:
            page = await store.events.read_page(after=after, limit=limit, types=types)
            await store.delete(ids[0])
            return page

    projector = Projector(migrated_any_db, EraseAfterReading(), AgentProjection(store.events))
    assert await projector.run_once() > 0

    rows = await read_model_rows(migrated_any_db)
    for table, table_rows in rows.items():
        assert ids[0] not in {row["agent_id"] for row in table_rows}, table
    assert {row["agent_id"] for row in rows["agent_summaries"]} == {ids[1], ids[2]}


async def test_sessions_that_leave_the_capped_history_within_one_save_keep_their_rows(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = AgentAggregate.create(
        owner_user_id="u1", name="importer", max_history_size=2, now=clock()
    )
    agent.start_session("c1", now=clock())
    suspend(agent, "t1", clock)
    agent.resume_execution(ClientResponse(call_id="t1", payload={}), now=clock())
    await store.save(agent)  # session 1 is active: its row comes from the state
    agent.complete_session("first", now=clock())
    for n in (2, 3, 4):
        agent.start_session(f"c{n}", now=clock())
        if n == 2:
            suspend(agent, "t2", clock)
            agent.resume_execution(ClientResponse(call_id="t2", payload={}), now=clock())
            agent.terminate_session("timeout", now=clock())
        else:
            agent.complete_session(f"session {n}", now=clock())
    await store.save(agent)  # sessions 1 and 2 leave the history of two within this save
    assert [s.conversation_id for s in agent.state.session_history] == ["c3", "c4"]

    history = await AgentReadModel(migrated_any_db).session_history(agent.id)
    assert [(s.seq, s.conversation_id, s.status, s.interactions) for s in history] == [
        (4, "c4", "completed", 0),
        (3, "c3", "completed", 0),
        (2, "c2", "terminated", 1),
        (1, "c1", "completed", 1),
    ]
    assert (history[3].summary, history[2].end_reason) == ("first", "timeout")
    assert all(s.ended_at is not None for s in history)

    inline = await read_model_rows(migrated_any_db)
    for page_size in (1, 4, 1000):
        projector = Projector(
            migrated_any_db, store.events, AgentProjection(store.events), page_size=page_size
        )
        await projector.rebuild()
        assert await read_model_rows(migrated_any_db) == inline, page_size
