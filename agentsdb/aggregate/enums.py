"""The closed vocabularies of the Agent aggregate: agent types, statuses and assignment roles."""

from __future__ import annotations

from enum import StrEnum

# One lifecycle for agent definitions (the ``agents`` table) and agent instances (this aggregate):
# active or archived. Reused, not restated.
from agentsdb.models.agent import AgentStatus


class AgentType(StrEnum):
    """What an agent instance does for its user."""

    TUTOR = "tutor"
    THOUGHT = "thought"
    EVALUATOR = "evaluator"
    COACH = "coach"
    CONNECTOR = "connector"
    WELLNESS = "wellness"
    PLANNER = "planner"
    RESEARCHER = "researcher"


class AssignmentRole(StrEnum):
    """How a user other than the owner takes part in an agent instance."""

    PRIMARY = "primary"
    """Uses the agent as if it were theirs."""
    SHARED = "shared"
    """Uses the agent alongside its owner."""
    MENTEE = "mentee"
    """Is coached or taught through the agent by its owner."""
    OBSERVER = "observer"
    """May read the agent's sessions but not run it."""


class SessionStatus(StrEnum):
    """Where a session is in its life.

    ``ACTIVE`` and ``SUSPENDED`` are the states of the one active session (suspended: execution
    waits for a client response). ``COMPLETED`` and ``TERMINATED`` are final and only appear in
    the session history.
    """

    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    @property
    def is_final(self) -> bool:
        """True for the statuses a session ends in."""
        return self in (SessionStatus.COMPLETED, SessionStatus.TERMINATED)


__all__ = ["AgentStatus", "AgentType", "AssignmentRole", "SessionStatus"]
