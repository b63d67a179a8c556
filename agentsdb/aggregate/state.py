"""The Agent aggregate's state and the one function that moves it: ``evolve(state, event)``.

``evolve`` is pure and is the only place an event changes state, whether the event was just
decided by a command or replayed from the store, so live state and replayed state cannot differ.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue

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
    preferences: dict[str, JsonValue] = Field(default_factory=dict)
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


def _with_session(state: AgentState, session: Session, **changes: Any) -> AgentState:
    return state.model_copy(update={"active_session": session, **changes})


def _end_session(state: AgentState, ended: Session, **changes: Any) -> AgentState:
    history = (*state.session_history, ended)[-state.max_history_size :]
    return state.model_copy(
        update={
            "active_session": None,
            "execution_state": None,
            "pending_action": None,
            "session_history": history,
            **changes,
        }
    )


def _session(state: AgentState) -> Session:
    # Commands check for an active session before they record a session event; a stream that
    # holds one without it is corrupt, and replay must not invent a session.
    if state.active_session is None:
        raise ValueError(f"agent {state.agent_id}: session event without an active session")
    return state.active_session


def evolve(state: AgentState, event: AgentEvent) -> AgentState:
    """The state after ``event``. Pure: ``state`` is not changed."""
    state = _evolve(state, event)
    return state.model_copy(update={"updated_at": event.occurred_at})


def _evolve(state: AgentState, event: AgentEvent) -> AgentState:
    if isinstance(event, SessionStarted):
        session = Session(
            session_id=event.session_id,
            conversation_id=event.conversation_id,
            started_at=event.occurred_at,
        )
        return _with_session(state, session, total_sessions=state.total_sessions + 1)
    if isinstance(event, ExecutionSuspended):
        session = _session(state).model_copy(update={"status": SessionStatus.SUSPENDED})
        return _with_session(state, session, execution_state=event.execution_state)
    if isinstance(event, ClientActionRequested):
        session = _session(state)
        session = session.model_copy(
            update={"client_action_count": session.client_action_count + 1}
        )
        if event.blocking:
            return _with_session(state, session, pending_action=event.action)
        return _with_session(state, session)
    if isinstance(event, ClientResponseReceived):
        session = _session(state)
        session = session.model_copy(update={"interaction_count": session.interaction_count + 1})
        return _with_session(
            state,
            session,
            last_response=event.response,
            total_interactions=state.total_interactions + 1,
            last_interaction_at=event.occurred_at,
        )
    if isinstance(event, ExecutionResumed):
        session = _session(state).model_copy(update={"status": SessionStatus.ACTIVE})
        return _with_session(
            state, session, pending_action=None, last_resumed_call_id=event.call_id
        )
    if isinstance(event, SessionCompleted):
        ended = _session(state).model_copy(
            update={
                "status": SessionStatus.COMPLETED,
                "ended_at": event.occurred_at,
                "summary": event.summary,
            }
        )
        return _end_session(state, ended, successful_completions=state.successful_completions + 1)
    if isinstance(event, SessionTerminated):
        ended = _session(state).model_copy(
            update={
                "status": SessionStatus.TERMINATED,
                "ended_at": event.occurred_at,
                "termination_reason": event.reason,
            }
        )
        return _end_session(state, ended)
    if isinstance(event, PreferencesUpdated):
        return state.model_copy(
            update={
                "preferences": dict(event.preferences),
                "system_prompt_override": event.system_prompt_override,
            }
        )
    if isinstance(event, UserAssigned):
        assignment = AgentAssignment(
            user_id=event.user_id,
            role=event.role,
            assigned_by=event.assigned_by,
            assigned_at=event.occurred_at,
        )
        return state.model_copy(update={"assignments": (*state.assignments, assignment)})
    if isinstance(event, AgentArchived):
        return state.model_copy(
            update={
                "status": AgentStatus.ARCHIVED,
                "archived_at": event.occurred_at,
                "archive_reason": event.reason,
            }
        )
    raise ValueError(f"agent {state.agent_id}: {event.TYPE} cannot follow creation")


__all__ = ["AgentState", "evolve", "initial_state"]
