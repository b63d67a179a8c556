"""The ids job ``sessions-to-agents`` derives: the same legacy rows always give the same ids.

An agent's id comes from (user, session type), a session's from its agent and legacy id, and an
event's from its agent, the legacy session it imports and its place among that session's events
(the agent's creation has an id kind of its own). A rerun therefore finds
what it would write already stored, and an append retried after a lost reply is recognised.
"""

from __future__ import annotations

import uuid
from typing import Final

from agentsdb.aggregate import derived_agent_id, derived_event_id
from agentsdb.aggregate.identity import AGENT_NAMESPACE

#: The kinds of the event ids this job derives (see :func:`derived_event_id`): of a legacy
#: session's events, and of the events that create an agent.
EVENT_KIND: Final = "sessions-to-agents"
CREATION_KIND: Final = "sessions-to-agents:created"


def agent_id_for(user_id: str, agent_type: str) -> str:
    """The agent a (user, session type) group becomes: the same pair, the same id."""
    return derived_agent_id(user_id, agent_type)


def session_id_for(agent_id: str, legacy_id: str) -> str:
    """The id of the agent's session imported from legacy session ``legacy_id``."""
    return str(uuid.uuid5(AGENT_NAMESPACE, "\x1f".join(("session", agent_id, legacy_id))))


def event_id_for(agent_id: str, legacy_id: str | None, index: int) -> str:
    """The id of the ``index``-th event (from 0) recorded importing legacy session
    ``legacy_id``; ``None`` for the events that create the agent."""
    if legacy_id is None:
        # A kind of their own: no legacy id, whatever its characters, can give these ids.
        return derived_event_id(agent_id, CREATION_KIND, str(index))
    return derived_event_id(agent_id, EVENT_KIND, f"{legacy_id}\x1f{index}")


class ImportIds:
    """The aggregate's id factory during an import: each event gets :func:`event_id_for` of
    the legacy session being imported and its count so far."""

    def __init__(self) -> None:
        self.agent_id = ""
        self._legacy_id: str | None = None
        self._count = 0

    def begin(self, agent_id: str, legacy_id: str | None, index: int = 0) -> None:
        """The events recorded next belong to ``legacy_id`` of agent ``agent_id`` (``None``:
        to its creation), numbered from ``index``."""
        self.agent_id, self._legacy_id, self._count = agent_id, legacy_id, index

    def __call__(self) -> str:
        index, self._count = self._count, self._count + 1
        return event_id_for(self.agent_id, self._legacy_id, index)


__all__ = [
    "CREATION_KIND",
    "EVENT_KIND",
    "ImportIds",
    "agent_id_for",
    "event_id_for",
    "session_id_for",
]
