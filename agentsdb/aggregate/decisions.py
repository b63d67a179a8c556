"""What the Agent's commands decide: the events a command records, built from the state after
its rules passed (:mod:`agentsdb.aggregate.rules`). Pure: no ids are made and no clock is read
here, the aggregate passes them in (:class:`~agentsdb.aggregate.agent.AgentAggregate`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Final

from pydantic import JsonValue

from agentsdb.aggregate import rules
from agentsdb.aggregate.errors import InvalidCommandError
from agentsdb.aggregate.events import (
    AgentEvent,
    ClientActionRequested,
    ClientResponseReceived,
    ExecutionResumed,
    ExecutionSuspended,
    PreferencesUpdated,
)
from agentsdb.aggregate.identity import derived_event_id
from agentsdb.aggregate.state import AgentState
from agentsdb.aggregate.values import ClientAction, ClientResponse, ExecutionState, Session


class Keep(Enum):
    """The type of :data:`KEEP`."""

    KEEP = "keep"


#: Marks an argument left out (``None`` is a value: it clears the system prompt override).
KEEP: Final = Keep.KEEP

#: An event to record, with the id it must have (None: a fresh id).
Decision = tuple[AgentEvent, str | None]


def suspension(
    state: AgentState, execution: ExecutionState, action: ClientAction, now: datetime
) -> tuple[Decision, Decision]:
    """``suspend_execution``: the suspension (with the state) and the blocking request (with the
    action only, so consumers of client actions never receive the conversation)."""
    session = rules.suspendable_session(state, execution, action)
    fields = {"occurred_at": now, "session_id": session.session_id}
    suspended = rules.build(
        ExecutionSuspended, "suspend_execution", execution_state=execution, **fields
    )
    requested = rules.build(
        ClientActionRequested, "suspend_execution", action=action, blocking=True, **fields
    )
    return (suspended, None), (requested, None)


def response(
    agent_id: str, session: Session, answer: ClientResponse, now: datetime, command: str
) -> Decision:
    """The client's answer received, under the event id its call id derives."""
    received = rules.build(
        ClientResponseReceived,
        command,
        occurred_at=now,
        session_id=session.session_id,
        response=answer,
    )
    return received, derived_event_id(agent_id, "client-response", answer.call_id)


def resumption(
    state: AgentState, answer: ClientResponse, now: datetime, *, duplicate: bool
) -> list[Decision]:
    """``resume_execution`` of a suspended session: the answer (unless ``duplicate``: received
    before) and the resumption, under the event id its call id derives."""
    session = rules.suspended_session(state, "resume_execution", answer.call_id)
    resumed = rules.build(
        ExecutionResumed,
        "resume_execution",
        occurred_at=now,
        session_id=session.session_id,
        call_id=answer.call_id,
    )
    decisions: list[Decision] = [
        (resumed, derived_event_id(state.agent_id, "execution-resumed", answer.call_id))
    ]
    if not duplicate:
        decisions.insert(0, response(state.agent_id, session, answer, now, "resume_execution"))
    return decisions


def preferences_update(
    state: AgentState,
    changes: Mapping[str, JsonValue] | None,
    remove: Sequence[str],
    system_prompt_override: str | Keep | None,
    now: datetime,
) -> PreferencesUpdated | None:
    """``update_preferences``: the merged preferences (and override), or None when nothing
    would change."""
    rules.check_open(state, "update_preferences")
    if isinstance(remove, str):
        raise InvalidCommandError("update_preferences", ["remove: must be a list of keys"])
    preferences = {**state.preferences, **(changes or {})}
    for key in remove:
        preferences.pop(key, None)
    if isinstance(system_prompt_override, Keep):
        system_prompt_override = state.system_prompt_override
    updated = rules.build(
        PreferencesUpdated,
        "update_preferences",
        occurred_at=now,
        preferences=preferences,
        system_prompt_override=system_prompt_override,
    )
    unchanged = (updated.preferences, updated.system_prompt_override) == (
        state.preferences,
        state.system_prompt_override,
    )
    return None if unchanged else updated


__all__ = [
    "KEEP",
    "Decision",
    "Keep",
    "preferences_update",
    "response",
    "resumption",
    "suspension",
]
