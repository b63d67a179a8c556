"""Rebuilding an agent's state from an optional snapshot and the events stored after it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from agentsdb.aggregate.errors import EventSequenceError, SnapshotError, validation_problems
from agentsdb.aggregate.events import AgentCreated, AgentEvent, from_recorded
from agentsdb.aggregate.identity import agent_id_from_stream, stream_id_for
from agentsdb.aggregate.state import AgentState, evolve_owned, initial_state
from agentsdb.events.types import RecordedEvent


def rebuild(
    events: Iterable[RecordedEvent], snapshot: tuple[int, Mapping[str, Any]] | None = None
) -> tuple[AgentState, int]:
    """The state and version after ``snapshot`` (``(version, state)``) and ``events``.

    Events must be of one ``agent-<uuid>`` stream, with versions following the snapshot's (or
    starting at 1 with ``agent.created.v1``) without gaps. Raises :class:`EventSequenceError`
    otherwise, :class:`SnapshotError` for an unreadable snapshot, and the decoding errors of
    :func:`~agentsdb.aggregate.events.from_recorded`.
    """
    state: AgentState | None = None
    version = 0
    stream_id: str | None = None
    if snapshot is not None:
        state, version = _from_snapshot(snapshot)
        stream_id = stream_id_for(state.agent_id)
    for recorded in events:
        if stream_id is None:
            stream_id = recorded.stream_id
            agent_id_from_stream(stream_id)
        elif recorded.stream_id != stream_id:
            raise EventSequenceError(stream_id, f"event from stream {recorded.stream_id!r}")
        if recorded.version != version + 1:
            raise EventSequenceError(
                stream_id, f"expected version {version + 1}, got {recorded.version}"
            )
        state = _apply(stream_id, state, from_recorded(recorded))
        version = recorded.version
    if state is None:
        raise EventSequenceError(stream_id or "", "no snapshot and no events")
    return state, version


def _from_snapshot(snapshot: tuple[int, Mapping[str, Any]]) -> tuple[AgentState, int]:
    version, data = snapshot
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(f"its version must be a positive integer, not {version!r}")
    try:
        return AgentState.model_validate(data), version
    except ValidationError as error:
        raise SnapshotError("; ".join(validation_problems(error))) from error


def _apply(stream_id: str, state: AgentState | None, event: AgentEvent) -> AgentState:
    # ``state`` is this replay's own (built from the created event or the snapshot's data, and
    # not handed out before the replay ends), so it is changed in place.
    if isinstance(event, AgentCreated):
        if state is not None:
            raise EventSequenceError(stream_id, "agent.created.v1 after the agent exists")
        if stream_id_for(event.agent_id) != stream_id:
            raise EventSequenceError(stream_id, f"it creates agent {event.agent_id}")
        return initial_state(event)
    if state is None:
        raise EventSequenceError(stream_id, f"{event.TYPE} before agent.created.v1")
    try:
        return evolve_owned(state, event)
    except ValueError as error:
        raise EventSequenceError(stream_id, str(error)) from error


__all__ = ["rebuild"]
