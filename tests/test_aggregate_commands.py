"""Every command of the Agent aggregate and every rule it enforces, without a database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aggregate_support import (
    AGENT_ID,
    RESPONSE,
    T0,
    action,
    at,
    event_types,
    execution_state,
    new_agent,
    suspended_agent,
)

from agentsdb.aggregate import (
    AgentAggregate,
    AgentArchivedError,
    AgentStatus,
    AgentType,
    AlreadySuspendedError,
    AssignmentRole,
    CallIdMismatchError,
    CallIdReusedError,
    ClientAction,
    ClientResponse,
    ConflictingClientResponseError,
    DomainError,
    DuplicateAssignmentError,
    ExecutionState,
    InvalidAgentIdError,
    InvalidAgentTypeError,
    InvalidAssignmentRoleError,
    InvalidCommandError,
    MissingPendingToolCallError,
    NoActiveSessionError,
    NotSuspendedError,
    OwnerAssignmentError,
    SessionAlreadyActiveError,
    SessionStatus,
    SessionStillActiveError,
    SessionSuspendedError,
    derived_event_id,
)
from agentsdb.errors import AgentsDBError
from agentsdb.ids import new_id


def refuses(agent: AgentAggregate, error: type[DomainError], command: Callable[[], Any]) -> Any:
    """Run ``command`` expecting ``error``; the agent must have recorded nothing."""
    state, pending = agent.state, agent.pending_events
    with pytest.raises(error) as raised:
        command()
    assert agent.state == state
    assert agent.pending_events == pending
    assert isinstance(raised.value, AgentsDBError)
    return raised.value


# --- create --------------------------------------------------------------------------------------


def test_create_records_agent_created_with_the_given_fields() -> None:
    agent = new_agent(preferences={"tone": "warm"}, system_prompt_override="Be brief.")
    [created] = agent.pending_events
    assert created.type == "agent.created.v1"
    assert created.data["owner_user_id"] == "owner-1"
    assert created.data["agent_type"] == "tutor"
    assert created.data["name"] == "Ada's tutor"
    assert created.data["occurred_at"] == "2026-11-01T09:00:00.123456Z"
    state = agent.state
    assert (agent.id, agent.version, agent.stream_id) == (AGENT_ID, 0, f"agent-{AGENT_ID}")
    assert state.status is AgentStatus.ACTIVE
    assert state.preferences == {"tone": "warm"}
    assert state.system_prompt_override == "Be brief."
    assert state.created_at == state.updated_at == T0
    assert (state.total_sessions, state.total_interactions, state.successful_completions) == (
        0,
        0,
        0,
    )
    assert not agent.has_active_session()
    assert not agent.is_suspended()


def test_create_defaults_to_a_random_uuid4_id_and_the_current_time() -> None:
    agent = AgentAggregate.create(owner_user_id="u1", name="tutor")
    assert uuid.UUID(agent.id).version == 4
    assert agent.state.agent_type is AgentType.TUTOR
    assert agent.state.created_at.tzinfo is not None


def test_create_accepts_an_agent_type_given_as_text() -> None:
    assert new_agent(agent_type="coach").state.agent_type is AgentType.COACH


def test_create_refuses_an_unknown_agent_type_naming_the_choices() -> None:
    with pytest.raises(InvalidAgentTypeError, match="tutor, thought") as raised:
        new_agent(agent_type="wizard")
    assert raised.value.value == "wizard"


@pytest.mark.parametrize(
    ("agent_id", "reason"),
    [
        ("not-a-uuid", "must be a UUID"),
        (AGENT_ID.upper(), "canonical form"),
        (new_id(), "version 7"),
    ],
)
def test_create_refuses_an_agent_id_outside_the_instance_id_space(
    agent_id: str, reason: str
) -> None:
    with pytest.raises(InvalidAgentIdError, match=reason):
        new_agent(agent_id=agent_id)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"owner_user_id": ""}, "owner_user_id"),
        ({"max_history_size": 0}, "max_history_size"),
        ({"preferences": {"x": float("nan")}}, "preferences"),
    ],
)
def test_create_refuses_invalid_arguments_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidCommandError, match=field) as raised:
        new_agent(**overrides)
    assert raised.value.command == "create"


# --- sessions ------------------------------------------------------------------------------------


def test_start_session_opens_an_active_session_and_counts_it() -> None:
    agent = new_agent()
    session = agent.start_session("conv-1", session_id="s-1", now=at(5))
    assert session.session_id == "s-1"
    assert session.status is SessionStatus.ACTIVE
    assert session.started_at == at(5)
    assert agent.has_active_session()
    assert agent.state.total_sessions == 1
    assert agent.state.updated_at == at(5)
    assert event_types(agent.pending_events)[-1] == "agent.session.started.v1"


def test_start_session_refuses_a_second_active_session() -> None:
    agent = new_agent()
    agent.start_session("conv-1", session_id="s-1")
    error = refuses(agent, SessionAlreadyActiveError, lambda: agent.start_session("conv-2"))
    assert error.session_id == "s-1"


def test_start_session_refuses_a_blank_conversation_id() -> None:
    agent = new_agent()
    refuses(agent, InvalidCommandError, lambda: agent.start_session(""))


def test_complete_session_moves_it_into_the_history_and_counts_a_success() -> None:
    agent = new_agent()
    agent.start_session("conv-1", session_id="s-1", now=at(1))
    ended = agent.complete_session("learned fractions", now=at(9))
    assert ended.status is SessionStatus.COMPLETED
    assert (ended.summary, ended.ended_at) == ("learned fractions", at(9))
    assert agent.state.session_history == (ended,)
    assert agent.state.successful_completions == 1
    assert not agent.has_active_session()
    assert agent.pending_events[-1].data == {
        "occurred_at": "2026-11-01T09:00:09.123456Z",
        "session_id": "s-1",
        "summary": "learned fractions",
    }


def test_complete_session_refuses_without_an_active_session() -> None:
    agent = new_agent()
    refuses(agent, NoActiveSessionError, lambda: agent.complete_session("x"))


def test_complete_session_refuses_while_execution_is_suspended() -> None:
    agent = suspended_agent()
    error = refuses(agent, SessionSuspendedError, lambda: agent.complete_session("x"))
    assert error.pending_call_id == "call-1"


def test_terminate_session_drops_a_suspended_execution_and_keeps_the_reason() -> None:
    agent = suspended_agent()
    ended = agent.terminate_session("user left", now=at(9))
    assert ended.status is SessionStatus.TERMINATED
    assert ended.termination_reason == "user left"
    state = agent.state
    assert (state.execution_state, state.pending_action, state.active_session) == (None,) * 3
    assert state.successful_completions == 0
    assert not agent.is_suspended()


def test_terminate_session_refuses_without_an_active_session_or_a_reason() -> None:
    agent = new_agent()
    refuses(agent, NoActiveSessionError, lambda: agent.terminate_session("x"))
    agent.start_session("conv-1")
    refuses(agent, InvalidCommandError, lambda: agent.terminate_session(" "))


def test_session_history_keeps_only_the_newest_max_history_size_sessions() -> None:
    agent = new_agent(max_history_size=3)
    for n in range(5):
        agent.start_session("conv", session_id=f"s-{n}")
        if n % 2:
            agent.terminate_session("stop")
        else:
            agent.complete_session(f"summary {n}")
    history = agent.state.session_history
    assert [s.session_id for s in history] == ["s-2", "s-3", "s-4"]
    assert agent.state.total_sessions == 5
    assert agent.state.successful_completions == 3


# --- suspension and client actions ---------------------------------------------------------------


def test_suspend_execution_saves_the_state_and_requests_the_blocking_action() -> None:
    agent = suspended_agent()
    assert agent.is_suspended()
    suspended, requested = agent.pending_events[-2:]
    assert suspended.type == "agent.execution.suspended.v1"
    assert ExecutionState.model_validate(suspended.data["execution_state"]) == execution_state()
    assert requested.type == "agent.client.action.requested.v1"
    assert requested.data["blocking"] is True
    assert "execution_state" not in requested.data
    state = agent.state
    assert state.pending_action == action()
    assert state.active_session is not None
    assert state.active_session.status is SessionStatus.SUSPENDED
    assert state.active_session.client_action_count == 1


def test_suspend_execution_refuses_without_an_active_session() -> None:
    agent = new_agent()
    refuses(
        agent, NoActiveSessionError, lambda: agent.suspend_execution(execution_state(), action())
    )


def test_suspend_execution_refuses_while_already_suspended() -> None:
    agent = suspended_agent()
    error = refuses(
        agent,
        AlreadySuspendedError,
        lambda: agent.suspend_execution(execution_state("call-2"), action("call-2")),
    )
    assert error.pending_call_id == "call-1"


def test_suspend_execution_refuses_a_state_without_a_pending_tool_call() -> None:
    agent = new_agent()
    agent.start_session("conv-1")
    state = execution_state().model_copy(update={"pending_tool_call": None})
    refuses(agent, MissingPendingToolCallError, lambda: agent.suspend_execution(state, action()))


def test_suspend_execution_refuses_an_action_for_another_call() -> None:
    agent = new_agent()
    agent.start_session("conv-1")
    error = refuses(
        agent,
        CallIdMismatchError,
        lambda: agent.suspend_execution(execution_state("call-1"), action("call-9")),
    )
    assert (error.expected, error.actual) == ("call-1", "call-9")


def test_suspend_execution_refuses_a_call_id_already_answered() -> None:
    agent = suspended_agent()
    agent.resume_execution(RESPONSE)
    refuses(
        agent,
        CallIdReusedError,
        lambda: agent.suspend_execution(execution_state("call-1"), action("call-1")),
    )


def test_request_client_action_records_a_non_blocking_action() -> None:
    agent = new_agent()
    agent.start_session("conv-1")
    agent.request_client_action(ClientAction(call_id="note-1", kind="toast"))
    assert agent.pending_events[-1].data["blocking"] is False
    assert not agent.is_suspended()
    assert agent.state.pending_action is None
    assert agent.state.active_session is not None
    assert agent.state.active_session.client_action_count == 1


def test_request_client_action_refuses_without_a_session_or_with_the_pending_call_id() -> None:
    agent = new_agent()
    refuses(agent, NoActiveSessionError, lambda: agent.request_client_action(action("n")))
    agent = suspended_agent()
    refuses(agent, CallIdReusedError, lambda: agent.request_client_action(action("call-1")))


# --- client responses and resume -----------------------------------------------------------------


def test_receive_client_response_records_it_under_an_id_derived_from_the_call() -> None:
    agent = suspended_agent()
    assert agent.receive_client_response(RESPONSE, now=at(3)) is True
    event = agent.pending_events[-1]
    assert event.type == "agent.client.response.received.v1"
    assert event.event_id == derived_event_id(AGENT_ID, "client-response", "call-1")
    state = agent.state
    assert state.total_interactions == 1
    assert state.last_interaction_at == at(3)
    assert state.active_session is not None
    assert state.active_session.interaction_count == 1
    assert agent.is_suspended()  # answered, not resumed yet


def test_receive_client_response_twice_records_it_once() -> None:
    agent = suspended_agent()
    agent.receive_client_response(RESPONSE)
    state, pending = agent.state, agent.pending_events
    assert agent.receive_client_response(RESPONSE) is False
    assert (agent.state, agent.pending_events) == (state, pending)


def test_receive_client_response_refuses_another_answer_to_the_same_call() -> None:
    agent = suspended_agent()
    agent.receive_client_response(RESPONSE)
    other = ClientResponse(call_id="call-1", payload={"value": 8})
    refuses(agent, ConflictingClientResponseError, lambda: agent.receive_client_response(other))


def test_receive_client_response_refuses_a_response_to_another_call() -> None:
    agent = suspended_agent()
    other = ClientResponse(call_id="call-2")
    error = refuses(agent, CallIdMismatchError, lambda: agent.receive_client_response(other))
    assert (error.expected, error.actual) == ("call-1", "call-2")


def test_receive_client_response_refuses_when_not_suspended() -> None:
    agent = new_agent()
    refuses(agent, NoActiveSessionError, lambda: agent.receive_client_response(RESPONSE))
    agent.start_session("conv-1")
    refuses(agent, NotSuspendedError, lambda: agent.receive_client_response(RESPONSE))


def test_resume_execution_returns_the_saved_state_and_records_response_and_resume() -> None:
    agent = suspended_agent()
    before = len(agent.pending_events)
    assert agent.resume_execution(RESPONSE, now=at(4)) == execution_state()
    response, resumed = agent.pending_events[before:]
    assert response.type == "agent.client.response.received.v1"
    assert resumed.type == "agent.execution.resumed.v1"
    assert resumed.event_id == derived_event_id(AGENT_ID, "execution-resumed", "call-1")
    assert "execution_state" not in resumed.data
    assert not agent.is_suspended()
    assert agent.has_active_session()
    assert agent.state.pending_action is None
    assert agent.state.total_interactions == 1


def test_resume_execution_after_receiving_the_response_records_only_the_resume() -> None:
    agent = suspended_agent()
    agent.receive_client_response(RESPONSE)
    before = len(agent.pending_events)
    agent.resume_execution(RESPONSE)
    assert event_types(agent.pending_events[before:]) == ["agent.execution.resumed.v1"]
    assert agent.state.total_interactions == 1


def test_resume_execution_twice_with_the_same_call_is_a_no_op_returning_the_same_state() -> None:
    agent = suspended_agent()
    first = agent.resume_execution(RESPONSE)
    state, pending = agent.state, agent.pending_events
    assert agent.resume_execution(RESPONSE) == first
    assert agent.receive_client_response(RESPONSE) is False
    assert (agent.state, agent.pending_events) == (state, pending)


def test_resume_execution_refuses_a_different_payload_for_a_resumed_call() -> None:
    agent = suspended_agent()
    agent.resume_execution(RESPONSE)
    other = ClientResponse(call_id="call-1", payload={"value": 0})
    refuses(agent, ConflictingClientResponseError, lambda: agent.resume_execution(other))


def test_resume_execution_refuses_a_mismatched_call_and_an_unsuspended_agent() -> None:
    agent = suspended_agent()
    other = ClientResponse(call_id="call-2")
    refuses(agent, CallIdMismatchError, lambda: agent.resume_execution(other))
    agent = new_agent()
    agent.start_session("conv-1")
    refuses(agent, NotSuspendedError, lambda: agent.resume_execution(RESPONSE))


def test_resume_execution_after_the_session_ended_is_refused() -> None:
    agent = suspended_agent()
    agent.resume_execution(RESPONSE)
    agent.complete_session("done")
    refuses(agent, NoActiveSessionError, lambda: agent.resume_execution(RESPONSE))
    assert agent.receive_client_response(RESPONSE) is False  # a late duplicate stays harmless


def test_two_workers_resuming_one_suspension_record_the_same_event_ids() -> None:
    first, second = suspended_agent(), suspended_agent()
    first.resume_execution(RESPONSE, now=at(5))
    second.resume_execution(RESPONSE, now=at(6))
    assert [e.event_id for e in first.pending_events[-2:]] == [
        e.event_id for e in second.pending_events[-2:]
    ]


def test_complete_after_resume_clears_the_execution_state() -> None:
    agent = suspended_agent()
    agent.resume_execution(RESPONSE)
    agent.complete_session("done")
    assert agent.state.execution_state is None
    assert agent.state.session_history[-1].interaction_count == 1


# --- preferences, assignments, archive -----------------------------------------------------------


def test_update_preferences_merges_removes_and_sets_the_override() -> None:
    agent = new_agent(preferences={"tone": "warm", "pace": "slow"})
    changed = agent.update_preferences(
        {"pace": "fast", "lang": "fr"}, remove=["tone"], system_prompt_override="Short."
    )
    assert changed is True
    assert agent.state.preferences == {"pace": "fast", "lang": "fr"}
    assert agent.state.system_prompt_override == "Short."
    assert agent.pending_events[-1].data["preferences"] == {"pace": "fast", "lang": "fr"}
    agent.update_preferences(system_prompt_override=None)
    assert agent.state.system_prompt_override is None
    assert agent.state.preferences == {"pace": "fast", "lang": "fr"}


def test_update_preferences_that_changes_nothing_records_nothing() -> None:
    agent = new_agent(preferences={"tone": "warm"})
    before = agent.pending_events
    assert agent.update_preferences({"tone": "warm"}, remove=["absent"]) is False
    assert agent.pending_events == before


def test_update_preferences_refuses_non_json_values_and_a_string_for_remove() -> None:
    agent = new_agent()
    refuses(agent, InvalidCommandError, lambda: agent.update_preferences({"x": object()}))  # type: ignore[dict-item]  # a bad value on purpose
    refuses(agent, InvalidCommandError, lambda: agent.update_preferences(remove="tone"))


def test_assign_user_records_the_assignment() -> None:
    agent = new_agent()
    agent.assign_user("user-2", "mentee", "owner-1", now=at(3))
    [assignment] = agent.state.assignments
    assert (assignment.user_id, assignment.role, assignment.assigned_by) == (
        "user-2",
        AssignmentRole.MENTEE,
        "owner-1",
    )
    assert assignment.assigned_at == at(3)


def test_assign_user_refuses_a_duplicate_an_owner_and_an_unknown_role() -> None:
    agent = new_agent()
    agent.assign_user("user-2", AssignmentRole.SHARED, "owner-1")
    error = refuses(
        agent,
        DuplicateAssignmentError,
        lambda: agent.assign_user("user-2", AssignmentRole.OBSERVER, "owner-1"),
    )
    assert error.role == "shared"
    refuses(agent, OwnerAssignmentError, lambda: agent.assign_user("owner-1", "shared", "x"))
    error = refuses(
        agent, InvalidAssignmentRoleError, lambda: agent.assign_user("user-3", "boss", "owner-1")
    )
    assert error.choices == ["primary", "shared", "mentee", "observer"]
    refuses(agent, InvalidCommandError, lambda: agent.assign_user("user 3", "shared", "owner-1"))


def test_archive_refuses_while_a_session_is_active() -> None:
    agent = new_agent()
    agent.start_session("conv-1", session_id="s-1")
    error = refuses(agent, SessionStillActiveError, lambda: agent.archive("retired"))
    assert error.session_id == "s-1"


def test_archive_records_when_and_why() -> None:
    agent = new_agent()
    agent.archive("retired", now=at(7))
    state = agent.state
    assert (state.status, state.archived_at, state.archive_reason) == (
        AgentStatus.ARCHIVED,
        at(7),
        "retired",
    )


ARCHIVED_COMMANDS: dict[str, Callable[[AgentAggregate], object]] = {
    "start_session": lambda a: a.start_session("conv-2"),
    "suspend_execution": lambda a: a.suspend_execution(execution_state(), action()),
    "request_client_action": lambda a: a.request_client_action(action("n")),
    "receive_client_response": lambda a: a.receive_client_response(RESPONSE),
    "resume_execution": lambda a: a.resume_execution(RESPONSE),
    "complete_session": lambda a: a.complete_session("x"),
    "terminate_session": lambda a: a.terminate_session("x"),
    "update_preferences": lambda a: a.update_preferences({"x": 1}),
    "assign_user": lambda a: a.assign_user("user-9", "shared", "owner-1"),
    "archive": lambda a: a.archive("again"),
}


@pytest.mark.parametrize("command", ARCHIVED_COMMANDS)
def test_an_archived_agent_refuses_every_command(command: str) -> None:
    agent = suspended_agent()
    agent.resume_execution(RESPONSE)  # a duplicate of it must be refused too once archived
    agent.complete_session("done")
    agent.archive("retired")
    error = refuses(agent, AgentArchivedError, lambda: ARCHIVED_COMMANDS[command](agent))
    assert error.command == command
    assert agent.state.status is AgentStatus.ARCHIVED


NAIVE = T0.replace(tzinfo=None)
NAIVE_TIME_COMMANDS: dict[str, Callable[[AgentAggregate], object]] = {
    "start_session": lambda a: a.start_session("conv-2", now=NAIVE),
    "suspend_execution": lambda a: a.suspend_execution(execution_state(), action(), now=NAIVE),
    "request_client_action": lambda a: a.request_client_action(action("n"), now=NAIVE),
    "receive_client_response": lambda a: a.receive_client_response(RESPONSE, now=NAIVE),
    "resume_execution": lambda a: a.resume_execution(RESPONSE, now=NAIVE),
    "complete_session": lambda a: a.complete_session("x", now=NAIVE),
    "terminate_session": lambda a: a.terminate_session("x", now=NAIVE),
    "update_preferences": lambda a: a.update_preferences({"x": 1}, now=NAIVE),
    "assign_user": lambda a: a.assign_user("user-9", "shared", "owner-1", now=NAIVE),
    "archive": lambda a: a.archive("again", now=NAIVE),
}


@pytest.mark.parametrize("command", NAIVE_TIME_COMMANDS)
def test_every_command_refuses_a_time_without_a_timezone(command: str) -> None:
    agent = new_agent()
    if command in {"suspend_execution", "request_client_action", "complete_session"}:
        agent.start_session("conv-1")
    elif command in {"receive_client_response", "resume_execution", "terminate_session"}:
        agent = suspended_agent()
    error = refuses(agent, InvalidCommandError, lambda: NAIVE_TIME_COMMANDS[command](agent))
    assert error.command == command
    assert "occurred_at" in str(error)


def test_create_refuses_a_definition_id_equal_to_the_instance_id() -> None:
    with pytest.raises(InvalidAgentIdError, match="share its definition's id"):
        new_agent(definition_id=AGENT_ID)
    assert new_agent(definition_id="did:plc:abc").state.definition_id == "did:plc:abc"


def test_changing_a_value_after_handing_it_to_a_command_does_not_change_the_agent() -> None:
    agent = new_agent()
    agent.start_session("conv-1")
    saved = execution_state()
    agent.suspend_execution(saved, action())
    assert saved.pending_tool_call is not None
    saved.pending_tool_call.arguments["q"] = "changed"
    kept = agent.state.execution_state
    assert kept is not None
    assert kept.pending_tool_call is not None
    assert kept.pending_tool_call.arguments == {"q": 1}


def test_only_completed_and_terminated_are_final_session_statuses() -> None:
    assert [status for status in SessionStatus if status.is_final] == [
        SessionStatus.COMPLETED,
        SessionStatus.TERMINATED,
    ]
