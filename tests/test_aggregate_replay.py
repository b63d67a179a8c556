"""Replaying stored events rebuilds exactly the live state; snapshots and bad streams."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from aggregate_support import (
    AGENT_ID,
    RESPONSE,
    action,
    at,
    execution_state,
    full_life,
    new_agent,
    recorded,
    save,
    suspended_agent,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from agentsdb.aggregate import (
    AgentAggregate,
    ClientAction,
    ClientResponse,
    DomainError,
    EventPayloadError,
    EventSequenceError,
    SnapshotError,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
    VersionMismatchError,
)
from agentsdb.events.types import RecordedEvent

STREAM = f"agent-{AGENT_ID}"


def test_replay_rebuilds_the_live_state_of_every_event_type() -> None:
    log: list[RecordedEvent] = []
    live = full_life(log)
    assert len({event.type for event in log}) == 11
    replayed = AgentAggregate.replay(log)
    assert replayed.state == live.state
    assert replayed.version == live.version == len(log)
    assert replayed.pending_events == []


def test_a_snapshot_at_any_version_plus_the_later_events_equals_the_full_replay() -> None:
    log: list[RecordedEvent] = []
    full_life(log)
    expected = AgentAggregate.replay(log).state
    for version in range(1, len(log) + 1):
        at_version = AgentAggregate.replay(log[:version])
        # Through JSON text, as a store keeps it.
        snapshot = json.loads(json.dumps(at_version.to_snapshot()))
        rebuilt = AgentAggregate.replay(log[version:], snapshot=(version, snapshot))
        assert rebuilt.state == expected, version
        assert rebuilt.version == len(log)


def test_a_replay_changes_no_value_it_was_given_or_handed_out_before() -> None:
    # A replay revises the sessions it builds in place; a session it did not build (one in the
    # snapshot it starts from) or one a caller already holds must stay as it was.
    log: list[RecordedEvent] = []
    agent = suspended_agent()
    save(agent, log)
    version = agent.version
    given = dict(agent.state)  # holds the live state's own Session and ExecutionState objects
    before = agent.state.model_copy(deep=True)
    halfway = AgentAggregate.replay(log)
    halfway_before = halfway.state.model_copy(deep=True)
    agent.resume_execution(RESPONSE, now=at(50))
    agent.complete_session("done", now=at(51))
    save(agent, log)

    from_snapshot = AgentAggregate.replay(log[version:], snapshot=(version, given))
    AgentAggregate.replay(log)

    assert from_snapshot.state == agent.state
    assert dict(given) == dict(before)
    assert given["active_session"].status.value == "suspended"
    assert halfway.state == halfway_before


def test_a_reloaded_suspended_agent_resumes_and_ignores_a_duplicate_resume() -> None:
    log: list[RecordedEvent] = []
    agent = suspended_agent()
    save(agent, log)
    worker = AgentAggregate.replay(log)
    assert worker.is_suspended()
    assert worker.resume_execution(RESPONSE) == execution_state()
    save(worker, log)
    again = AgentAggregate.replay(log)
    assert again.resume_execution(RESPONSE) == execution_state()
    assert again.pending_events == []


def test_mark_saved_clears_pending_events_and_refuses_a_version_that_skips_events() -> None:
    agent = new_agent()
    agent.start_session("conv-1")
    with pytest.raises(VersionMismatchError) as raised:
        agent.mark_saved(5)
    assert (raised.value.expected, raised.value.actual) == (2, 5)
    assert len(agent.pending_events) == 2
    agent.mark_saved(2)
    assert (agent.version, agent.pending_events) == (2, [])


# --- streams that cannot be replayed ------------------------------------------------------------


def stored() -> list[RecordedEvent]:
    log: list[RecordedEvent] = []
    save(suspended_agent(), log)
    return log


def test_replay_refuses_a_gap_in_versions() -> None:
    log = stored()
    with pytest.raises(EventSequenceError, match="expected version 2, got 3"):
        AgentAggregate.replay([log[0], *log[2:]])


def test_replay_refuses_events_of_another_stream() -> None:
    log = stored()
    with pytest.raises(EventSequenceError, match="from stream"):
        AgentAggregate.replay([log[0], replace(log[1], stream_id="agent-other")])


def test_replay_refuses_a_stream_that_does_not_start_with_creation() -> None:
    log = stored()
    shifted = [replace(event, version=n) for n, event in enumerate(log[1:], start=1)]
    with pytest.raises(EventSequenceError, match=r"before agent\.created\.v1"):
        AgentAggregate.replay(shifted)


def test_replay_refuses_a_second_creation() -> None:
    log = stored()
    with pytest.raises(EventSequenceError, match="after the agent exists"):
        AgentAggregate.replay([log[0], replace(log[0], version=2)])


def test_replay_refuses_a_creation_of_another_agent_in_the_stream() -> None:
    other = new_agent(agent_id="0d7a1c9e-3b4f-4a6e-8c2d-9e8f7a6b5c4d")
    [created] = recorded(STREAM, other.pending_events)
    with pytest.raises(EventSequenceError, match="creates agent 0d7a1c9e"):
        AgentAggregate.replay([created])


def test_replay_refuses_a_session_event_without_a_session() -> None:
    log = stored()
    with pytest.raises(EventSequenceError, match="without an active session"):
        AgentAggregate.replay([log[0], replace(log[2], version=2)])


def test_replay_refuses_nothing_to_replay() -> None:
    with pytest.raises(EventSequenceError, match="no snapshot and no events"):
        AgentAggregate.replay([])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"type": "agent.teleported.v1"}, UnknownEventTypeError),
        ({"schema_version": 2}, UnsupportedSchemaVersionError),
        ({"data": {"occurred_at": "yesterday"}}, EventPayloadError),
    ],
)
def test_replay_refuses_an_event_it_cannot_decode(
    change: dict[str, object], error: type[DomainError]
) -> None:
    log = stored()
    with pytest.raises(error):
        AgentAggregate.replay([log[0], replace(log[1], **change)])  # type: ignore[arg-type]  # loose test overrides


def test_replay_refuses_a_snapshot_that_is_not_an_agent_state() -> None:
    snapshot = new_agent().to_snapshot()
    del snapshot["owner_user_id"]
    with pytest.raises(SnapshotError, match="owner_user_id"):
        AgentAggregate.replay([], snapshot=(1, snapshot))


# --- any sequence of commands -------------------------------------------------------------------

COMMANDS: list[Callable[[AgentAggregate, int], object]] = [
    lambda a, n: a.start_session(f"conv-{n}", now=at(n)),
    lambda a, n: a.suspend_execution(
        execution_state(f"call-{n}", messages=n % 4 + 1), action(f"call-{n}"), now=at(n)
    ),
    lambda a, n: a.request_client_action(ClientAction(call_id=f"n-{n}", kind="k"), now=at(n)),
    lambda a, n: a.receive_client_response(
        ClientResponse(call_id=a.state.pending_call_id or "none", payload={"n": 1}), now=at(n)
    ),
    lambda a, n: a.resume_execution(
        ClientResponse(
            call_id=a.state.pending_call_id or a.state.last_resumed_call_id or "none",
            payload={"n": 1},
        ),
        now=at(n),
    ),
    lambda a, n: a.complete_session(f"summary {n}", now=at(n)),
    lambda a, n: a.terminate_session(f"reason {n}", now=at(n)),
    lambda a, n: a.update_preferences({f"k{n % 3}": n}, now=at(n)),
    lambda a, n: a.assign_user(f"user-{n % 4}", ["primary", "shared"][n % 2], "o", now=at(n)),
    lambda a, n: a.archive("done", now=at(n)) if n % 7 == 0 else None,
]


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.integers(0, len(COMMANDS) - 1), max_size=40),
    saves=st.sets(st.integers(0, 40)),
    split=st.integers(0, 200),
)
def test_any_command_sequence_replays_to_the_live_state(
    steps: list[int], saves: set[int], split: int
) -> None:
    agent = new_agent(max_history_size=3)
    log: list[RecordedEvent] = []
    for n, step in enumerate(steps, start=1):
        # Refused commands record nothing (test_aggregate_commands proves it).
        with contextlib.suppress(DomainError):
            COMMANDS[step](agent, n)
        if n in saves:
            save(agent, log)
    save(agent, log)
    assert AgentAggregate.replay(log).state == agent.state
    split = split % len(log) + 1
    snapshot = AgentAggregate.replay(log[:split]).to_snapshot()
    assert AgentAggregate.replay(log[split:], snapshot=(split, snapshot)).state == agent.state


@pytest.mark.parametrize("version", [0, -1, True, "3"])
def test_replay_refuses_a_snapshot_version_that_is_not_a_positive_integer(version: object) -> None:
    with pytest.raises(SnapshotError, match="positive integer"):
        AgentAggregate.replay([], snapshot=(version, new_agent().to_snapshot()))  # type: ignore[arg-type]  # bad on purpose
