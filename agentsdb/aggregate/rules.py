"""The rules the Agent's commands enforce, as pure checks over its state.

Each check raises the :class:`~agentsdb.aggregate.errors.DomainError` subclass naming its rule,
or returns what the command needs next. Commands run every check before they record anything.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from pydantic import ValidationError

from agentsdb.aggregate.enums import AgentStatus
from agentsdb.aggregate.errors import (
    AgentArchivedError,
    AlreadySuspendedError,
    CallIdMismatchError,
    CallIdReusedError,
    ConflictingClientResponseError,
    DuplicateAssignmentError,
    InvalidChoiceError,
    InvalidCommandError,
    MissingPendingToolCallError,
    NoActiveSessionError,
    NotSuspendedError,
    OwnerAssignmentError,
    SessionAlreadyActiveError,
    SessionStillActiveError,
    SessionSuspendedError,
    validation_problems,
)
from agentsdb.aggregate.events import AgentEvent
from agentsdb.aggregate.state import AgentState
from agentsdb.aggregate.values import ClientAction, ClientResponse, ExecutionState, Session

E = TypeVar("E", bound=AgentEvent)
C = TypeVar("C", bound=Enum)


def build(cls: type[E], command: str, **fields: Any) -> E:
    """The payload ``command`` records, or :class:`InvalidCommandError` naming bad arguments."""
    try:
        return cls.model_validate(fields)
    except ValidationError as error:
        raise InvalidCommandError(command, validation_problems(error)) from error


def choice(enum: type[C], value: object, error: type[InvalidChoiceError], field: str) -> C:
    """``value`` as a member of ``enum``, or ``error`` listing the allowed values."""
    try:
        return enum(value)
    except ValueError:
        raise error(field, value, [str(member.value) for member in enum]) from None


def check_open(state: AgentState, command: str) -> None:
    """An archived agent accepts no command."""
    if state.status is AgentStatus.ARCHIVED:
        raise AgentArchivedError(state.agent_id, command)


def check_no_session(state: AgentState) -> None:
    """One session at a time."""
    if state.active_session is not None:
        raise SessionAlreadyActiveError(state.agent_id, state.active_session.session_id)


def active_session(state: AgentState, command: str) -> Session:
    """The active session ``command`` works on."""
    check_open(state, command)
    if state.active_session is None:
        raise NoActiveSessionError(state.agent_id, command)
    return state.active_session


def suspended_session(state: AgentState, command: str, call_id: str) -> Session:
    """The suspended session a response to ``call_id`` answers."""
    session = active_session(state, command)
    pending = state.pending_call_id
    if pending is None:
        raise NotSuspendedError(state.agent_id, call_id)
    if call_id != pending:
        raise CallIdMismatchError(state.agent_id, pending, call_id)
    return session


def check_new_call_id(state: AgentState, call_id: str) -> None:
    """A new client action needs a call id not pending and not answered already."""
    last = state.last_response
    if call_id in (state.pending_call_id, state.last_resumed_call_id) or (
        last is not None and last.call_id == call_id
    ):
        raise CallIdReusedError(state.agent_id, call_id)


def suspendable_session(
    state: AgentState, execution: ExecutionState, action: ClientAction
) -> Session:
    """The session a suspension belongs to: not suspended yet, waiting on ``action``'s call."""
    session = active_session(state, "suspend_execution")
    if state.pending_call_id is not None:
        raise AlreadySuspendedError(state.agent_id, state.pending_call_id)
    if execution.pending_tool_call is None:
        raise MissingPendingToolCallError(state.agent_id)
    call_id = execution.pending_tool_call.call_id
    if action.call_id != call_id:
        raise CallIdMismatchError(state.agent_id, call_id, action.call_id)
    check_new_call_id(state, call_id)
    return session


def is_duplicate_response(state: AgentState, response: ClientResponse) -> bool:
    """True when ``response`` was received already; a different answer to that call is refused."""
    last = state.last_response
    if last is None or last.call_id != response.call_id:
        return False
    if last.payload != response.payload:
        raise ConflictingClientResponseError(state.agent_id, response.call_id)
    return True


def completable_session(state: AgentState) -> Session:
    """A session completes only when execution is not waiting for the client."""
    session = active_session(state, "complete_session")
    if state.pending_call_id is not None:
        raise SessionSuspendedError(state.agent_id, session.session_id, state.pending_call_id)
    return session


def check_assignable(state: AgentState, user_id: str) -> None:
    """A user is assigned at most once, and the owner not at all."""
    if user_id == state.owner_user_id:
        raise OwnerAssignmentError(state.agent_id, user_id)
    for assignment in state.assignments:
        if assignment.user_id == user_id:
            raise DuplicateAssignmentError(state.agent_id, user_id, assignment.role.value)


def check_archivable(state: AgentState) -> None:
    """An agent is archived only between sessions, so no suspended run is dropped silently."""
    check_open(state, "archive")
    if state.active_session is not None:
        raise SessionStillActiveError(state.agent_id, state.active_session.session_id)


__all__ = [
    "active_session",
    "build",
    "check_archivable",
    "check_assignable",
    "check_new_call_id",
    "check_no_session",
    "check_open",
    "choice",
    "completable_session",
    "is_duplicate_response",
    "suspendable_session",
    "suspended_session",
]
