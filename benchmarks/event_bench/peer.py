"""The ``eventsourcing`` library's side of the cases: the same agent as an eventsourcing
aggregate, and its application on SQLite with agentsdb's durability (``synchronous=NORMAL``)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnectionPool


class PeerAgent(Aggregate):
    """The same decisions as AgentAggregate's preferences and sessions, in eventsourcing."""

    @event("Created")
    def __init__(self, owner_user_id: str, agent_type: str, name: str) -> None:
        self.owner_user_id = owner_user_id
        self.agent_type = agent_type
        self.name = name
        self.preferences: dict[str, Any] = {}
        self.active_session: dict[str, Any] | None = None
        self.execution_state: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    @event("PreferencesUpdated")
    def update_preferences(self, preferences: dict[str, Any]) -> None:
        self.preferences = {**self.preferences, **preferences}

    @event("SessionStarted")
    def start_session(self, session_id: str, conversation_id: str) -> None:
        self.active_session = {"id": session_id, "conversation_id": conversation_id}

    @event("ExecutionSuspended")
    def suspend(self, execution_state: dict[str, Any]) -> None:
        self.execution_state = execution_state

    @event("ClientActionRequested")
    def request_action(self, action: dict[str, Any]) -> None:
        pass

    @event("ClientResponseReceived")
    def receive_response(self, response: dict[str, Any]) -> None:
        pass

    @event("ExecutionResumed")
    def resume(self, call_id: str) -> None:
        self.execution_state = None

    @event("SessionCompleted")
    def complete(self, summary: str) -> None:
        assert self.active_session is not None
        self.history = [*self.history, {**self.active_session, "summary": summary}][-50:]
        self.active_session = None


class PeerAgents(Application[uuid.UUID]):
    is_snapshotting_enabled = True


_original_create = SQLiteConnectionPool._create_connection


def _create_with_matched_durability(self: SQLiteConnectionPool) -> Any:
    connection = _original_create(self)
    connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
    return connection


SQLiteConnectionPool._create_connection = _create_with_matched_durability  # type: ignore[method-assign]  # durability matched to agentsdb's


def peer_app(path: Path, **settings: str) -> Any:
    return PeerAgents(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            **settings,
        }
    )


def peer_session(agent: Any, cycle: int) -> None:
    call_id = f"call-{cycle}"
    agent.start_session(f"session-{cycle}", f"conversation-{cycle}")
    agent.suspend(
        {
            "messages": [
                {"role": "user", "content": "What is the weather in Lisbon?"},
                {"role": "assistant", "tool_calls": [{"id": call_id, "name": "ask_location"}]},
            ],
            "iteration": 1,
            "tool_calls_made": 1,
            "pending_tool_call": {
                "call_id": call_id,
                "tool_name": "ask_location",
                "arguments": {"precise": True},
            },
        }
    )
    agent.request_action({"call_id": call_id, "kind": "widget", "payload": {"w": "map"}})
    agent.receive_response({"call_id": call_id, "payload": {"city": "Lisbon"}})
    agent.resume(call_id)
    agent.complete(f"answered {cycle}")
