"""Helpers for the aggregate's unit tests: a fixed clock, stored-event stand-ins, ready agents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from agentsdb.aggregate import (
    AgentAggregate,
    AgentType,
    ClientAction,
    ClientResponse,
    ExecutionState,
    LlmMessageSnapshot,
    PendingToolCall,
)
from agentsdb.events.types import NewEvent, RecordedEvent

T0 = datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=UTC)
AGENT_ID = "5f0e8b1c-6a3d-4e2f-9b7a-1c2d3e4f5a6b"
RESPONSE = ClientResponse(call_id="call-1", payload={"value": 7})


def at(seconds: float) -> datetime:
    """A moment ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


class Ids:
    """Deterministic ids: ``id-1``, ``id-2``, ..."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"id-{self.count}"


def new_agent(**overrides: object) -> AgentAggregate:
    fields: dict[str, object] = {
        "owner_user_id": "owner-1",
        "agent_type": AgentType.TUTOR,
        "name": "Ada's tutor",
        "agent_id": AGENT_ID,
        "now": T0,
        "id_factory": Ids(),
    }
    fields.update(overrides)
    return AgentAggregate.create(**fields)  # type: ignore[arg-type]  # test overrides are loose


def execution_state(call_id: str = "call-1", messages: int = 2) -> ExecutionState:
    conversation = [LlmMessageSnapshot(role="system", content="Be kind.")]
    conversation += [
        LlmMessageSnapshot(role="user", content=f"question {n}") for n in range(messages - 1)
    ]
    conversation.append(
        LlmMessageSnapshot(
            role="assistant",
            content=None,
            tool_calls=(
                {"id": call_id, "type": "function", "function": {"name": "ask", "arguments": "{}"}},
            ),
        )
    )
    return ExecutionState(
        messages=tuple(conversation),
        iteration=3,
        tool_calls_made=1,
        pending_tool_call=PendingToolCall(call_id=call_id, tool_name="ask", arguments={"q": 1}),
        started_at_ms=1_790_000_000_000,
        suspended_at_ms=1_790_000_001_000,
    )


def action(call_id: str = "call-1") -> ClientAction:
    return ClientAction(call_id=call_id, kind="widget", payload={"widget": "slider", "max": 10})


def suspended_agent(call_id: str = "call-1") -> AgentAggregate:
    agent = new_agent()
    agent.start_session("conv-1", now=at(1))
    agent.suspend_execution(execution_state(call_id), action(call_id), now=at(2))
    return agent


def recorded(
    stream_id: str, events: Sequence[NewEvent], first_version: int = 1
) -> list[RecordedEvent]:
    """``events`` as the event store would return them after appending them."""
    return [
        RecordedEvent(
            position=100 + version,
            stream_id=stream_id,
            version=version,
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
            recorded_at="2026-11-01T09:00:00.000000Z",
        )
        for version, event in enumerate(events, start=first_version)
    ]


def save(agent: AgentAggregate, log: list[RecordedEvent]) -> None:
    """Append ``agent``'s pending events to ``log`` as a store would, and mark them saved."""
    log.extend(recorded(agent.stream_id, agent.pending_events, agent.version + 1))
    agent.mark_saved(agent.version + len(agent.pending_events))


def full_life(log: list[RecordedEvent]) -> AgentAggregate:
    """An agent through every event type, saved to ``log`` in several appends."""
    agent = new_agent(preferences={"tone": "warm"})
    agent.assign_user("user-2", "observer", "owner-1", now=at(1))
    save(agent, log)
    agent.start_session("conv-1", session_id="s-1", now=at(2))
    agent.suspend_execution(execution_state(), action(), now=at(3))
    save(agent, log)
    agent.request_client_action(ClientAction(call_id="note", kind="toast"), now=at(4))
    agent.receive_client_response(RESPONSE, now=at(5))
    agent.resume_execution(RESPONSE, now=at(6))
    agent.complete_session("done", now=at(7))
    agent.start_session("conv-2", session_id="s-2", now=at(8))
    agent.terminate_session("gone", now=at(9))
    agent.update_preferences({"pace": "fast"}, system_prompt_override="Short.", now=at(10))
    agent.archive("retired", now=at(11))
    save(agent, log)
    return agent


def event_types(events: Iterable[NewEvent]) -> list[str]:
    return [event.type for event in events]
