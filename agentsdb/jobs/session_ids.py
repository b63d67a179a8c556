"""The ids job ``sessions-to-agents`` derives: the same legacy rows always give the same ids.

An agent's id comes from (user, session type), a session's from its agent and legacy id, and an
event's from its agent, the legacy session it imports and its place among that session's events
(the agent's creation counts as a session of its own, :data:`CREATED`). A rerun therefore finds
what it would write already stored, and an append retried after a lost reply is recognised.
"""

from __future__ import annotations

import uuid
from typing import Final

from agentsdb.aggregate import derived_agent_id, derived_event_id
from agentsdb.aggregate.identity import AGENT_NAMESPACE

#: The kind of the event ids this job derives (see :func:`derived_event_id`).
EVENT_KIND: Final = "sessions-to-agents"


def agent_id_for(user_id: str, agent_type: str) -> str:
    """The agent a (user, session type) group becomes: the same pair, the same id."""
    return derived_agent_id(user_id, agent_type)


def session_id_for(agent_id: str, legacy_id: str) -> str:
    """The id of the agent's session imported from legacy session ``legacy_id``."""
    return str(uuid.uuid5(AGENT_NAMESPACE, "\x1f".join(("session", agent_id, legacy_id))))


def event_id_for(agent_id: str, legacy_id: str, index: int) -> str:
    """The id of the ``index``-th event (from 0) recorded importing ``legacy_id``."""
    return derived_event_id(agent_id, EVENT_KIND, f"{legacy_id}\x1f{index}")


CREATED: Final = "\x1fcreated"
"""The pseudo legacy id of the events recorded creating an agent (no row id can equal it)."""


class ImportIds:
    """The aggregate's id factory during an import: each event gets :func:`event_id_for` of
    the legacy session being imported and its count so far."""

    def __init__(self) -> None:
        self.agent_id = ""
        self._legacy_id = CREATED
        self._count = 0

    def begin(self, agent_id: str, legacy_id: str) -> None:
        """The events recorded next belong to ``legacy_id`` of agent ``agent_id``."""
        self.agent_id, self._legacy_id, self._count = agent_id, legacy_id, 0

    def __call__(self) -> str:
        index, self._count = self._count, self._count + 1
        return event_id_for(self.agent_id, self._legacy_id, index)


__all__ = [
    "CREATED",
    "EVENT_KIND",
    "ImportIds",
    "agent_id_for",
    "event_id_for",
    "session_id_for",
]
