"""The AgentStore's cache of stored states: execute decides on it without reading first, and it
never serves a state other than the one a fresh load returns. One contract suite, every backend."""

from __future__ import annotations

from typing import Any, cast

import pytest
from agent_store_support import Ticker, new_agent, read_model_rows, suspended_agent

import agentsdb
from agentsdb.aggregate import (
    AgentAggregate,
    AgentNotFoundError,
    AgentProjection,
    AgentStore,
    ClientResponse,
    ExecutionAlreadyResumedError,
    SessionAlreadyActiveError,
)
from agentsdb.db.base import Database, Execute
from agentsdb.errors import DatabaseError
from agentsdb.events import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    ConcurrencyError,
    EventStore,
    InvalidEventError,
    NewEvent,
    Projector,
)


@pytest.fixture
def clock() -> Ticker:
    return Ticker()


class CountingDatabase:
    """A Database that counts the calls made through it (and passes each one on)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._db, name)
        if name in {
            "run",
            "fetch_one",
            "fetch_all",
            "fetch_values",
            "execute",
            "execute_many",
            "transaction",
        }:
            self.calls.append(name)
        return attribute


def prefer(changes: dict[str, Any], clock: Ticker) -> Any:
    return lambda agent: agent.update_preferences(changes, now=clock())


async def fresh(db: Database, agent_id: str) -> AgentAggregate:
    """The agent as a store with nothing cached loads it."""
    return await AgentStore(db, cache_size=0).load(agent_id)


# --- what the cache saves ------------------------------------------------------------------------


async def test_execute_on_a_cached_agent_runs_one_unit_and_reads_nothing_first(
    migrated_any_db: Database, clock: Ticker
) -> None:
    counting = CountingDatabase(migrated_any_db)
    store = AgentStore(cast(Database, counting))
    agent = new_agent(clock)
    await store.save(agent)
    counting.calls.clear()

    assert await store.execute(agent.id, prefer({"n": 1}, clock)) is True

    assert counting.calls == ["run"]
    loaded = await fresh(migrated_any_db, agent.id)
    assert loaded.version == 2
    assert loaded.state.preferences == {"n": 1}


async def test_execute_without_a_cache_reads_the_agent_before_each_command(
    migrated_any_db: Database, clock: Ticker
) -> None:
    counting = CountingDatabase(migrated_any_db)
    store = AgentStore(cast(Database, counting), cache_size=0)
    agent = new_agent(clock)
    await store.save(agent)
    counting.calls.clear()

    await store.execute(agent.id, prefer({"n": 1}, clock))

    assert counting.calls[-1] == "run"
    assert len(counting.calls) >= 2  # the reads of load, then the append
    assert len(store.cache) == 0


async def test_the_cache_keeps_at_most_cache_size_agents_least_recently_used_first_out(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, cache_size=2)
    agents = [new_agent(clock, f"u{n}") for n in range(3)]
    for agent in agents[:2]:
        await store.save(agent)
    await store.execute(agents[0].id, prefer({"used": True}, clock))  # agents[1] is now oldest
    await store.save(agents[2])

    assert len(store.cache) == 2
    assert agents[0].id in store.cache
    assert agents[1].id not in store.cache
    assert agents[2].id in store.cache


async def test_a_negative_or_non_integer_cache_size_is_refused(migrated_any_db: Database) -> None:
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="cache_size must be a whole number"):
            AgentStore(migrated_any_db, cache_size=bad)  # type: ignore[arg-type]


# --- never a state a fresh load would not return ------------------------------------------------


async def test_load_reads_the_store_even_when_the_agent_is_cached(
    migrated_any_db: Database, clock: Ticker
) -> None:
    ours, theirs = AgentStore(migrated_any_db), AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await ours.save(agent)
    await theirs.execute(agent.id, prefer({"by": "theirs"}, clock))

    loaded = await ours.load(agent.id)

    assert loaded.version == 2
    assert loaded.state.preferences == {"by": "theirs"}


async def test_a_command_decided_on_a_state_another_store_changed_is_decided_again_on_fresh_state(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    ours = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await ours.save(agent)  # cached here at version 1
    async with agentsdb.connect(backend_url) as other:
        await AgentStore(other).execute(agent.id, lambda a: a.start_session("c1", now=clock()))
    seen: list[int] = []

    def start(loaded: AgentAggregate) -> Any:
        seen.append(loaded.version)
        return loaded.start_session("c2", now=clock())

    with pytest.raises(SessionAlreadyActiveError):
        await ours.execute(agent.id, start)

    assert seen == [1, 2]  # the cached state, then the stored one, whose rule refuses it
    loaded = await fresh(migrated_any_db, agent.id)
    assert loaded.version == 2
    assert loaded.state.active_session is not None
    assert loaded.state.active_session.conversation_id == "c1"


async def test_a_command_that_records_nothing_on_a_stale_cached_state_runs_on_fresh_state(
    migrated_any_db: Database, clock: Ticker
) -> None:
    ours, theirs = AgentStore(migrated_any_db), AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await ours.save(agent)
    await ours.execute(agent.id, prefer({"x": 1}, clock))  # cached here with x = 1
    await theirs.execute(agent.id, prefer({"x": 2}, clock))

    # On the cached state x is already 1 (nothing to record); on the stored state it is 2.
    assert await ours.execute(agent.id, prefer({"x": 1}, clock)) is True

    loaded = await fresh(migrated_any_db, agent.id)
    assert loaded.state.preferences == {"x": 1}
    assert loaded.version == 4


async def test_racing_stores_on_one_database_land_every_command_once(
    migrated_any_db: Database, clock: Ticker
) -> None:
    stores = [AgentStore(migrated_any_db, snapshot_every=3) for _ in range(3)]
    agent = new_agent(clock)
    await stores[0].save(agent)
    for n in range(4):
        for index, store in enumerate(stores):
            await store.execute(agent.id, prefer({f"{index}-{n}": n}, clock))

    loaded = await fresh(migrated_any_db, agent.id)
    assert loaded.version == 13
    assert loaded.state.preferences == {f"{i}-{n}": n for i in range(3) for n in range(4)}
    for store in stores:
        cached = store.cache.get(agent.id)
        assert cached is not None
        cached_agent, _ = cached
        if cached_agent.version == loaded.version:
            assert cached_agent.state == loaded.state


async def test_deleting_an_agent_evicts_it_from_the_cache(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)
    assert agent.id in store.cache

    await store.delete(agent.id)

    assert agent.id not in store.cache
    with pytest.raises(AgentNotFoundError):
        await store.execute(agent.id, prefer({"n": 1}, clock))


async def test_a_stream_deleted_through_the_event_store_evicts_the_agent(
    migrated_any_db: Database, clock: Ticker
) -> None:
    events = EventStore(migrated_any_db)
    store = AgentStore(migrated_any_db, events=events)
    agent = new_agent(clock)
    await store.save(agent)

    await events.delete_stream(agent.stream_id)

    assert agent.id not in store.cache


async def test_an_agent_erased_and_written_again_to_the_same_version_elsewhere_is_reloaded(
    migrated_any_db: Database, backend_url: str, clock: Ticker
) -> None:
    ours = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await ours.save(agent)
    await ours.execute(agent.id, prefer({"old": 1}, clock))  # cached here at version 2
    async with agentsdb.connect(backend_url) as other:
        theirs = AgentStore(other)
        await theirs.delete(agent.id)
        again = new_agent(clock, "u2", agent_id=agent.id)
        again.update_preferences({"new": 2}, now=clock())
        await theirs.save(again)  # versions 1-2 again, other events

    await ours.execute(agent.id, prefer({"mine": 3}, clock))

    loaded = await fresh(migrated_any_db, agent.id)
    assert loaded.state.owner_user_id == "u2"
    assert loaded.state.preferences == {"new": 2, "mine": 3}
    assert loaded.version == 3


async def test_an_append_whose_head_position_moved_is_refused_as_a_lost_race(
    migrated_any_db: Database,
) -> None:
    events = EventStore(migrated_any_db)
    first = await events.append("s-1", [NewEvent(type="t", data={})], 0)
    await events.delete_stream("s-1")
    await events.append("s-1", [NewEvent(type="t", data={})], 0)
    position = first.positions[-1]

    with pytest.raises(ConcurrencyError) as refused:
        await events.append("s-1", [NewEvent(type="t", data={})], 1, expected_position=position)

    # The version holds again, so the message says what moved instead of "expected version 1,
    # but the stream is at version 1".
    assert (refused.value.expected, refused.value.actual) == (1, 1)
    message = str(refused.value)
    assert f"is not the one at position {position}" in message
    assert "deleted and written again" in message
    assert "the stream is at version 1;" not in message
    assert len(await events.read_stream("s-1")) == 1


@pytest.mark.parametrize("count", [1, 6])
async def test_an_append_at_the_head_position_it_read_goes_in_and_any_other_position_is_refused(
    migrated_any_db: Database, count: int
) -> None:
    events = EventStore(migrated_any_db)
    first = await events.append("s-1", [NewEvent(type="t", data={}) for _ in range(2)], 0)
    batch = [NewEvent(type="t", data={}) for _ in range(count)]

    # The first event's position, not the newest's.
    with pytest.raises(ConcurrencyError, match=f"not the one at position {first.positions[0]}"):
        await events.append("s-1", batch, 2, expected_position=first.positions[0])
    assert await events.current_version("s-1") == 2

    result = await events.append("s-1", batch, 2, expected_position=first.positions[-1])
    assert (result.first_version, result.last_version) == (3, count + 2)


async def test_an_expected_position_needs_a_numeric_expected_version(
    migrated_any_db: Database,
) -> None:
    events = EventStore(migrated_any_db)
    for expected in (NO_STREAM, ANY, STREAM_EXISTS, 0):
        with pytest.raises(InvalidEventError, match="expected_position: needs a version >= 1"):
            await events.append("s-1", [NewEvent(type="t", data={})], expected, expected_position=1)
    with pytest.raises(InvalidEventError, match="expected_position: must be at least 1"):
        await events.append("s-1", [NewEvent(type="t", data={})], 1, expected_position=0)
    assert await events.read_stream("s-1") == []


# --- a failure leaves the cache as the store is ---------------------------------------------------


async def test_a_command_that_fails_after_recording_leaves_the_cached_state_unchanged(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)

    def record_then_fail(loaded: AgentAggregate) -> None:
        loaded.update_preferences({"half": "done"}, now=clock())
        raise RuntimeError("the command failed")

    with pytest.raises(RuntimeError, match="the command failed"):
        await store.execute(agent.id, record_then_fail)

    cached = store.cache.get(agent.id)
    assert cached is not None
    assert not cached[0].has_pending_events()
    assert cached[0].state == (await fresh(migrated_any_db, agent.id)).state
    assert cached[0].state.preferences == {}


async def test_a_failed_append_evicts_the_agent_and_the_next_command_sees_the_stored_state(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)
    loaded = await store.load(agent.id)
    loaded.update_preferences({"lost": True}, now=clock())

    with pytest.raises(DatabaseError, match="no_such_table") as refused:
        await store.save(loaded, with_steps=[Execute("INSERT INTO no_such_table VALUES (1)")])
    assert type(refused.value) is DatabaseError

    assert agent.id not in store.cache
    await store.execute(agent.id, prefer({"kept": True}, clock))
    stored = await fresh(migrated_any_db, agent.id)
    assert stored.state.preferences == {"kept": True}
    assert stored.version == 2


async def test_each_command_gets_its_own_aggregate_over_the_cached_state(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db)
    agent = new_agent(clock)
    await store.save(agent)
    cached = store.cache.get(agent.id)
    assert cached is not None
    cached[0].update_preferences({"not": "saved"}, now=clock())

    again = store.cache.get(agent.id)
    assert again is not None
    assert not again[0].has_pending_events()
    assert again[0].state.preferences == {}


# --- snapshots, read models and exactly-once resume, as without a cache --------------------------


async def test_snapshots_and_inline_read_models_are_written_as_without_a_cache(
    migrated_any_db: Database, clock: Ticker
) -> None:
    cached, uncached = (
        AgentStore(migrated_any_db, snapshot_every=3),
        AgentStore(migrated_any_db, snapshot_every=3, cache_size=0),
    )
    ids = []
    for store in (cached, uncached):
        agent = new_agent(clock, name="same")
        await store.save(agent)
        ids.append(agent.id)
        await store.execute(agent.id, lambda a: a.start_session("c1", now=clock()))
        for n in range(4):
            await store.execute(agent.id, prefer({"n": n}, clock))
        await store.execute(agent.id, lambda a: a.complete_session("done", now=clock()))

    snapshots = [await cached.events.load_snapshot(f"agent-{agent_id}") for agent_id in ids]
    assert [snapshot.version for snapshot in snapshots if snapshot] == [7, 7]
    for agent_id, snapshot in zip(ids, snapshots, strict=True):
        assert snapshot is not None
        assert snapshot.state == (await fresh(migrated_any_db, agent_id)).to_snapshot()
    inline = await read_model_rows(migrated_any_db)
    projector = Projector(migrated_any_db, cached.events, AgentProjection(cached.events))
    await projector.rebuild()
    assert await read_model_rows(migrated_any_db) == inline


async def test_a_resume_on_a_cached_agent_is_refused_the_second_time(
    migrated_any_db: Database, clock: Ticker
) -> None:
    store = AgentStore(migrated_any_db, clock=clock)
    agent_id = await suspended_agent(store, clock)
    response = ClientResponse(call_id="t1", payload={"answer": 4})

    state = await store.resume(agent_id, response)
    assert state.pending_tool_call is not None
    with pytest.raises(ExecutionAlreadyResumedError):
        await store.resume(agent_id, response)

    events = await store.events.read_stream(f"agent-{agent_id}")
    assert [event.type for event in events].count("agent.execution.resumed.v1") == 1
