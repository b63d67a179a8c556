"""Agents: create, upsert, look up, list, update, archive and delete."""

from __future__ import annotations

from agentsdb.errors import AgentsDBError, NotFoundError
from agentsdb.models.agent import Agent, AgentUpdate
from agentsdb.queries.agents import AgentQueries
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
)
from agentsdb.rules.identity import handle_argument
from agentsdb.rules.text import check_cursor, check_key, check_name, check_text


class AgentRepository(Repository):
    """The ``agents`` table. Deleting an agent deletes its sessions (and their logs), bios,
    profile counters, memories and conversations.
    """

    async def create(self, agent: Agent) -> Agent:
        """Store a new agent; UniqueViolationError when its id or handle is taken."""
        await self._db.execute(AgentQueries.insert, agent.to_params())
        return agent

    async def create_or_update(self, agent: Agent) -> Agent:
        """Insert the agent, or overwrite the stored one with the same id (one statement).

        ``created_at`` and the lifecycle (status, archive time and reason) of a stored agent
        are kept: a sync does not revive an archived agent.
        """
        params = agent.to_params()
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(AgentQueries.upsert, params)
        if row is None:
            raise AgentsDBError("the upsert returned no row")
        return self._model(Agent, row)

    async def get(self, agent_id: str) -> Agent | None:
        """The agent, or None."""
        check_key("AgentRepository.get", "agent_id", agent_id)
        row = await self._db.fetch_one(AgentQueries.get_by_id, {"id": agent_id})
        return self._model_or_none(Agent, row)

    async def get_by_handle(self, handle: str) -> Agent | None:
        """The agent with this handle, compared in its identity form, or None.

        ``@Alice`` and the fullwidth ``"\\uff21LICE"`` find ``alice`` (see
        :mod:`agentsdb.rules.identity`); ValidationError when ``handle`` cannot be a handle.
        """
        normalized = handle_argument("AgentRepository.get_by_handle", "handle", handle)
        row = await self._db.fetch_one(AgentQueries.get_by_handle, {"handle": normalized})
        return self._model_or_none(Agent, row)

    async def get_by_name(self, name: str) -> Agent | None:
        """The first agent (by id) with this name, or None. Names are not unique."""
        check_name("AgentRepository.get_by_name", "name", name)
        row = await self._db.fetch_one(AgentQueries.get_by_name, {"name": name})
        return self._model_or_none(Agent, row)

    async def list(
        self, *, active_only: bool = False, limit: int = 100, after: str | None = None
    ) -> list[Agent]:
        """A page of agents in id order; pass the last id of a page as ``after`` for the next."""
        check_cursor("AgentRepository.list", "after", after)
        sql = AgentQueries.list_active if active_only else AgentQueries.list
        params = {"after": FIRST_TEXT_KEY if after is None else after, "limit": check_limit(limit)}
        return self._models(Agent, await self._db.fetch_all(sql, params))

    async def update(self, agent_id: str, changes: AgentUpdate) -> Agent:
        """Change the given fields in one statement; NotFoundError if the agent is absent."""
        check_key("AgentRepository.update", "agent_id", agent_id)
        params = changes.to_params()
        params["id"] = agent_id
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(AgentQueries.update, params)
        if row is None:
            raise NotFoundError("agent", agent_id)
        return self._model(Agent, row)

    async def archive(self, agent_id: str, reason: str | None = None) -> Agent:
        """Mark the agent archived now, with an optional reason; NotFoundError if absent."""
        check_key("AgentRepository.archive", "agent_id", agent_id)
        if reason is not None:
            check_text("AgentRepository.archive", "reason", reason)
        moment = self._stamp()
        params = {
            "id": agent_id,
            "archived_at": moment,
            "archive_reason": reason,
            "updated_at": moment,
        }
        row = await self._db.fetch_one(AgentQueries.archive, params)
        if row is None:
            raise NotFoundError("agent", agent_id)
        return self._model(Agent, row)

    async def restore(self, agent_id: str) -> Agent:
        """Make an archived agent active again; NotFoundError if absent."""
        check_key("AgentRepository.restore", "agent_id", agent_id)
        row = await self._db.fetch_one(
            AgentQueries.restore, {"id": agent_id, "updated_at": self._stamp()}
        )
        if row is None:
            raise NotFoundError("agent", agent_id)
        return self._model(Agent, row)

    async def delete(self, agent_id: str) -> None:
        """Delete the agent and everything that belongs to it; NotFoundError if absent."""
        check_key("AgentRepository.delete", "agent_id", agent_id)
        result = await self._db.execute(AgentQueries.delete, {"id": agent_id})
        if result.rows_affected == 0:
            raise NotFoundError("agent", agent_id)

    async def count(self, *, active_only: bool = False) -> int:
        """How many agents there are (only active ones with ``active_only``)."""
        sql = AgentQueries.count_active if active_only else AgentQueries.count
        row = await self._db.fetch_one(sql)
        return int(row["total"]) if row is not None else 0

    async def exists(self, agent_id: str) -> bool:
        """True when the agent exists."""
        check_key("AgentRepository.exists", "agent_id", agent_id)
        row = await self._db.fetch_one(AgentQueries.check_exists, {"id": agent_id})
        return row is not None and bool(row["present"])


__all__ = ["AgentRepository"]
