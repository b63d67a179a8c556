"""The Agent aggregate's state and the one function that moves it: ``evolve(state, event)``.

``evolve`` is pure and is the only place an event changes state, whether the event was just
decided by a command or replayed from the store, so live state and replayed state cannot differ.
(A replay uses ``evolve_owned``, the same changes made in place to the state it is building.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import Field

from agentsdb.aggregate.enums import AgentStatus, AgentType, SessionStatus
from agentsdb.aggregate.events import (
    DEFAULT_MAX_HISTORY_SIZE,
    AgentArchived,
    AgentCreated,
    AgentEvent,
    ClientActionRequested,
    ClientResponseReceived,
    ExecutionResumed,
    ExecutionSuspended,
    PreferencesUpdated,
    SessionCompleted,
    SessionStarted,
    SessionTerminated,
    UserAssigned,
)
from agentsdb.aggregate.values import (
    AgentAssignment,
    ClientAction,
    ClientResponse,
    Count,
    ExecutionState,
    Moment,
    Preferences,
    Session,
    ValueObject,
)
from agentsdb.models._record import Key, Text


class AgentState(ValueObject):
    """An immutable snapshot of an agent instance.

    Execution: ``execution_state`` is the state the current run was suspended with (kept after a
    resume, so a duplicate resume returns it again; cleared when the session ends);
    ``pending_action`` is the client action a suspended run waits for; ``last_response`` and
    ``last_resumed_call_id`` remember the latest answered call, so a duplicate delivery is
    recognised. ``total_interactions`` counts client responses received, and
    ``last_interaction_at`` is when the latest arrived.
    """

    agent_id: Key
    owner_user_id: Key
    agent_type: AgentType
    name: Text
    definition_id: Key | None = None
    status: AgentStatus = AgentStatus.ACTIVE
    assignments: tuple[AgentAssignment, ...] = ()
    system_prompt_override: str | None = None
    preferences: Preferences = Field(default_factory=dict)
    total_sessions: Count = 0
    total_interactions: Count = 0
    successful_completions: Count = 0
    active_session: Session | None = None
    execution_state: ExecutionState | None = None
    pending_action: ClientAction | None = None
    last_response: ClientResponse | None = None
    last_resumed_call_id: Key | None = None
    session_history: tuple[Session, ...] = ()
    max_history_size: int = Field(default=DEFAULT_MAX_HISTORY_SIZE, ge=1)
    archived_at: Moment | None = None
    archive_reason: str | None = None
    created_at: Moment
    updated_at: Moment
    last_interaction_at: Moment | None = None

    @property
    def is_suspended(self) -> bool:
        """True while execution waits for a client response."""
        session = self.active_session
        return session is not None and session.status is SessionStatus.SUSPENDED

    @property
    def pending_call_id(self) -> str | None:
        """The call id a suspended execution waits for."""
        if not self.is_suspended or self.execution_state is None:
            return None
        pending = self.execution_state.pending_tool_call
        return None if pending is None else pending.call_id


def initial_state(event: AgentCreated) -> AgentState:
    """The state an ``agent.created.v1`` event starts."""
    return AgentState(
        agent_id=event.agent_id,
        owner_user_id=event.owner_user_id,
        agent_type=event.agent_type,
        name=event.name,
        definition_id=event.definition_id,
        system_prompt_override=event.system_prompt_override,
        preferences=dict(event.preferences),
        max_history_size=event.max_history_size,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


M = TypeVar("M", bound=ValueObject)

_set = object.__setattr__


def replace(model: M, **changes: Any) -> M:
    """A copy of ``model`` with ``changes``, which must be valid values for their fields.

    Not validated again: ``evolve`` only sets values taken from validated events and states.
    Four times cheaper than ``model_copy``, which matters when replaying thousands of events.
    """
    cls = type(model)
    copied = cls.__new__(cls)
    _set(copied, "__dict__", {**model.__dict__, **changes})
    _set(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | changes.keys())
    _set(copied, "__pydantic_extra__", None)
    _set(copied, "__pydantic_private__", None)
    return copied


def _session(state: AgentState) -> Session:
    # Commands check for an active session before they record a session event; a stream that
    # holds one without it is corrupt, and replay must not invent a session.
    if state.active_session is None:
        raise ValueError(f"agent {state.agent_id}: session event without an active session")
    return state.active_session


def _revise_owned(model: M, **changes: Any) -> M:
    """:func:`replace` for a value only the caller holds: the changes made to ``model`` itself."""
    model.__dict__.update(changes)
    model.__pydantic_fields_set__.update(changes)
    return model


#: How a change revises a value the state holds: :func:`replace` (a copy), or
#: :func:`_revise_owned` when a replay owns the state and everything in it.
_Revise = Callable[..., Any]


def _ended(
    state: AgentState,
    revise: _Revise,
    status: SessionStatus,
    at: datetime,
    **details: Any,
) -> dict[str, Any]:
    """The changes that end the active session with ``status`` (into the capped history)."""
    ended = revise(_session(state), status=status, ended_at=at, **details)
    return {
        "active_session": None,
        "execution_state": None,
        "pending_action": None,
        "session_history": (*state.session_history, ended)[-state.max_history_size :],
    }


def evolve(state: AgentState, event: AgentEvent) -> AgentState:
    """The state after ``event``. Pure: ``state`` is not changed."""
    return replace(state, updated_at=event.occurred_at, **_changes(state, event, replace))


def evolve_owned(state: AgentState, event: AgentEvent) -> AgentState:
    """:func:`evolve` for a state that only the caller holds, such as one a replay is building:
    the same changes, made to ``state`` itself, which is returned.

    A replay of N events then copies no state per event: those copies were a third of the
    replay's evolving (36 against 24 ms of CPU for the 10,003 events of the benchmark). The
    active session is revised in place too (a replay builds every session it holds), and moves
    into the history as it is when it ends. Never pass a state anyone else may hold: a state in
    an aggregate, a snapshot, or one returned to a caller is a value and must not change.
    """
    changes = _changes(state, event, _revise_owned)
    changes["updated_at"] = event.occurred_at
    # The same __dict__ and fields set that replace() would build, built in place.
    state.__dict__.update(changes)
    state.__pydantic_fields_set__.update(changes)
    return state


def _changes(state: AgentState, event: AgentEvent, revise: _Revise) -> dict[str, Any]:
    # By the event's exact type: a pydantic model's isinstance goes through ABCMeta, and a chain
    # of them cost more than the change itself. A subclass is looked up once by its base.
    change = _CHANGES.get(type(event))
    if change is None:
        change = _change_for(state, event)
    return change(state, event, revise)


def _session_started(state: AgentState, event: SessionStarted, revise: _Revise) -> dict[str, Any]:
    session = Session(
        session_id=event.session_id,
        conversation_id=event.conversation_id,
        started_at=event.occurred_at,
    )
    return {"active_session": session, "total_sessions": state.total_sessions + 1}


def _execution_suspended(
    state: AgentState, event: ExecutionSuspended, revise: _Revise
) -> dict[str, Any]:
    return {
        "active_session": revise(_session(state), status=SessionStatus.SUSPENDED),
        "execution_state": event.execution_state,
    }


def _client_action_requested(
    state: AgentState, event: ClientActionRequested, revise: _Revise
) -> dict[str, Any]:
    session = _session(state)
    changes: dict[str, Any] = {
        "active_session": revise(session, client_action_count=session.client_action_count + 1)
    }
    if event.blocking:
        changes["pending_action"] = event.action
    return changes


def _client_response_received(
    state: AgentState, event: ClientResponseReceived, revise: _Revise
) -> dict[str, Any]:
    session = _session(state)
    return {
        "active_session": revise(session, interaction_count=session.interaction_count + 1),
        "last_response": event.response,
        "total_interactions": state.total_interactions + 1,
        "last_interaction_at": event.occurred_at,
    }


def _execution_resumed(
    state: AgentState, event: ExecutionResumed, revise: _Revise
) -> dict[str, Any]:
    return {
        "active_session": revise(_session(state), status=SessionStatus.ACTIVE),
        "pending_action": None,
        "last_resumed_call_id": event.call_id,
    }


def _session_completed(
    state: AgentState, event: SessionCompleted, revise: _Revise
) -> dict[str, Any]:
    return {
        **_ended(state, revise, SessionStatus.COMPLETED, event.occurred_at, summary=event.summary),
        "successful_completions": state.successful_completions + 1,
    }


def _session_terminated(
    state: AgentState, event: SessionTerminated, revise: _Revise
) -> dict[str, Any]:
    return _ended(
        state, revise, SessionStatus.TERMINATED, event.occurred_at, termination_reason=event.reason
    )


def _preferences_updated(
    state: AgentState, event: PreferencesUpdated, revise: _Revise
) -> dict[str, Any]:
    return {
        "preferences": dict(event.preferences),
        "system_prompt_override": event.system_prompt_override,
    }


def _user_assigned(state: AgentState, event: UserAssigned, revise: _Revise) -> dict[str, Any]:
    assignment = AgentAssignment(
        user_id=event.user_id,
        role=event.role,
        assigned_by=event.assigned_by,
        assigned_at=event.occurred_at,
    )
    return {"assignments": (*state.assignments, assignment)}


def _agent_archived(state: AgentState, event: AgentArchived, revise: _Revise) -> dict[str, Any]:
    return {
        "status": AgentStatus.ARCHIVED,
        "archived_at": event.occurred_at,
        "archive_reason": event.reason,
    }


_Change = Callable[[AgentState, Any, _Revise], dict[str, Any]]

#: How each event after the first changes the state.
_CHANGES: dict[type[AgentEvent], _Change] = {
    SessionStarted: _session_started,
    ExecutionSuspended: _execution_suspended,
    ClientActionRequested: _client_action_requested,
    ClientResponseReceived: _client_response_received,
    ExecutionResumed: _execution_resumed,
    SessionCompleted: _session_completed,
    SessionTerminated: _session_terminated,
    PreferencesUpdated: _preferences_updated,
    UserAssigned: _user_assigned,
    AgentArchived: _agent_archived,
}


def _change_for(state: AgentState, event: AgentEvent) -> _Change:
    for kind, change in list(_CHANGES.items()):
        if isinstance(event, kind):
            _CHANGES[type(event)] = change
            return change
    raise ValueError(f"agent {state.agent_id}: {event.TYPE} cannot follow creation")


__all__ = ["AgentState", "evolve", "evolve_owned", "initial_state", "replace"]
