"""Queries over the Agent read models: an agent's summary, a user's agents, sessions.

The rows are written by the projections in :mod:`agentsdb.aggregate.projection` (inline with
every save, and by the catch-up projector); this module only reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentsdb.db.base import Database, Row
from agentsdb.errors import NotFoundError
from agentsdb.queries.agent_read_models import AgentReadModelQueries

#: The largest page a listing returns.
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class AssignmentSummary:
    """A user assigned to an agent, as the summary lists it."""

    user_id: str
    role: str
    assigned_by: str | None
    assigned_at: str | None


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """One agent as the read model holds it (the fields of an agent DTO).

    ``version`` is the version of the agent's event stream the row reflects. ``user_role`` is
    set only in :meth:`AgentReadModel.list_for_user`: ``owner`` or the user's assignment role.
    """

    agent_id: str
    owner_user_id: str
    agent_type: str
    status: str
    name: str
    has_active_session: bool
    active_session_id: str | None
    is_suspended: bool
    total_sessions: int
    total_interactions: int
    successful_completions: int
    assignments: tuple[AssignmentSummary, ...]
    created_at: str
    updated_at: str
    last_interaction_at: str | None
    archived_at: str | None
    version: int
    user_role: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> AgentSummary:
        """Read a row of ``agent_summaries`` (JSON as text or decoded)."""
        raw = row["assignments"]
        items: list[Mapping[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
        return cls(
            agent_id=row["agent_id"],
            owner_user_id=row["owner_user_id"],
            agent_type=row["agent_type"],
            status=row["status"],
            name=row["name"],
            has_active_session=bool(row["has_active_session"]),
            active_session_id=row["active_session_id"],
            is_suspended=bool(row["is_suspended"]),
            total_sessions=int(row["total_sessions"]),
            total_interactions=int(row["total_interactions"]),
            successful_completions=int(row["successful_completions"]),
            assignments=tuple(
                AssignmentSummary(
                    user_id=item["user_id"],
                    role=item["role"],
                    assigned_by=item.get("assigned_by"),
                    assigned_at=item.get("assigned_at"),
                )
                for item in items
            ),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_interaction_at=row["last_interaction_at"],
            archived_at=row["archived_at"],
            version=int(row["version"]),
            user_role=row.get("user_role"),
        )


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One session of an agent: ``seq`` numbers an agent's sessions 1, 2, 3 … as they start."""

    agent_id: str
    session_id: str
    seq: int
    conversation_id: str | None
    status: str
    started_at: str
    ended_at: str | None
    summary: str | None
    end_reason: str | None
    interactions: int
    version: int

    @classmethod
    def from_row(cls, row: Row) -> SessionSummary:
        """Read a row of ``agent_session_history``."""
        return cls(
            agent_id=row["agent_id"],
            session_id=row["session_id"],
            seq=int(row["seq"]),
            conversation_id=row["conversation_id"],
            status=row["status"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            summary=row["summary"],
            end_reason=row["end_reason"],
            interactions=int(row["interactions"]),
            version=int(row["version"]),
        )


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, not {limit!r}")
    return limit


class AgentReadModel:
    """Reads the Agent read models: one agent, a user's agents, an agent's sessions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, agent_id: str) -> AgentSummary | None:
        """The agent's summary, or ``None`` when there is no such agent."""
        row = await self._db.fetch_one(AgentReadModelQueries.get_summary, {"agent_id": agent_id})
        return None if row is None else AgentSummary.from_row(row)

    async def get(self, agent_id: str) -> AgentSummary:
        """The agent's summary; NotFoundError when there is no such agent."""
        summary = await self.find(agent_id)
        if summary is None:
            raise NotFoundError("agent", agent_id)
        return summary

    async def list_for_user(
        self, user_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[AgentSummary]:
        """The agents a user owns or is assigned to, in agent-id order, one keyset page.

        Pass the last ``agent_id`` of a page as ``after`` for the next one.
        """
        rows = await self._db.fetch_all(
            AgentReadModelQueries.list_for_user,
            {"user_id": user_id, "after": after or "", "limit": _check_limit(limit)},
        )
        return [AgentSummary.from_row(row) for row in rows]

    async def active_session(self, agent_id: str) -> SessionSummary | None:
        """The agent's active session, or ``None`` when it has none (or no such agent)."""
        row = await self._db.fetch_one(AgentReadModelQueries.active_session, {"agent_id": agent_id})
        return None if row is None else SessionSummary.from_row(row)

    async def session_history(
        self, agent_id: str, *, before: int | None = None, limit: int = 100
    ) -> list[SessionSummary]:
        """The agent's sessions, newest first (the active one included), one keyset page.

        Pass the last ``seq`` of a page as ``before`` for the next one.
        """
        rows = await self._db.fetch_all(
            AgentReadModelQueries.session_history,
            {"agent_id": agent_id, "before": before, "limit": _check_limit(limit)},
        )
        return [SessionSummary.from_row(row) for row in rows]


__all__ = [
    "MAX_PAGE_SIZE",
    "AgentReadModel",
    "AgentSummary",
    "AssignmentSummary",
    "SessionSummary",
]
