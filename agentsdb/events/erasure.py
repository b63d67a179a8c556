"""What erasing a stream removes besides its events and snapshot: the rows the built-in read
models (migration 012) hold for it.

Every :class:`~agentsdb.events.EventStore` runs these, whichever object deletes the stream, so
an erasure request cannot leave an agent's summary, session history or user index behind.
Read models of an application's own are added with ``EventStore(erasers=...)`` or
``register_eraser``.
"""

from __future__ import annotations

from agentsdb.db.base import Execute, Step
from agentsdb.queries.agent_read_models import AGENT_STREAM_PREFIX, AgentReadModelQueries


def built_in_erasure(stream_id: str) -> list[Step]:
    """The statements that delete the built-in read models' rows of ``stream_id``."""
    if not stream_id.startswith(AGENT_STREAM_PREFIX):
        return []
    return agent_read_model_erasure(stream_id.removeprefix(AGENT_STREAM_PREFIX))


def agent_read_model_erasure(agent_id: str) -> list[Step]:
    """The statements that remove every read-model row of one agent."""
    params = {"agent_id": agent_id}
    return [
        Execute(AgentReadModelQueries.delete_sessions, params),
        Execute(AgentReadModelQueries.delete_users, params),
        Execute(AgentReadModelQueries.delete_summary, params),
    ]


__all__ = ["agent_read_model_erasure", "built_in_erasure"]
