"""Memories: create, look up by id or name, list, update and delete."""

from __future__ import annotations

import builtins

from agentsdb.errors import NotFoundError
from agentsdb.models.memory import Memory, MemoryUpdate, ReadMode
from agentsdb.queries.memories import MemoryQueries
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
    stamp,
)


class MemoryRepository(Repository):
    """The ``memories`` table. A name is unique per (agent, user); memories without a user
    share one scope per agent.
    """

    async def create(self, memory: Memory) -> Memory:
        """Store a new memory; UniqueViolationError when the agent already has the name for that
        user (or, without a user, as a shared memory).
        """
        await self._db.execute(MemoryQueries.insert, memory.to_params())
        return memory

    async def get(self, memory_id: str) -> Memory | None:
        """The memory, or None."""
        row = await self._db.fetch_one(MemoryQueries.get_by_id, {"id": memory_id})
        return self._model_or_none(Memory, row)

    async def get_by_name(
        self, name: str, *, agent_id: str, user_id: str | None = None
    ) -> Memory | None:
        """The agent's memory of that name for that user (None: the shared one), or None."""
        row = await self._db.fetch_one(
            MemoryQueries.get_by_name, {"name": name, "agent_id": agent_id, "user_id": user_id}
        )
        return self._model_or_none(Memory, row)

    async def list(
        self,
        *,
        agent_id: str | None = None,
        user_id: str | None = None,
        read_mode: ReadMode | str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Memory]:
        """A page of memories in id order, by agent and/or user, optionally one read mode.

        Give ``agent_id`` or ``user_id`` (or both). Pass the last id of a page as ``after``.
        """
        if agent_id is not None:
            sql = MemoryQueries.list_by_agent
        elif user_id is not None:
            sql = MemoryQueries.list_by_user
        else:
            raise ValueError("list memories by agent_id, user_id or both")
        return await self._page(sql, agent_id, user_id, read_mode, limit, after)

    async def list_visible(
        self,
        *,
        agent_id: str,
        user_id: str,
        read_mode: ReadMode | str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> builtins.list[Memory]:
        """What the agent may recall with this user: their memories and the shared ones."""
        return await self._page(
            MemoryQueries.list_visible, agent_id, user_id, read_mode, limit, after
        )

    async def _page(
        self,
        sql: str,
        agent_id: str | None,
        user_id: str | None,
        read_mode: ReadMode | str | None,
        limit: int,
        after: str | None,
    ) -> builtins.list[Memory]:
        params = {
            "agent_id": agent_id,
            "user_id": user_id,
            "read_mode": None if read_mode is None else ReadMode(read_mode).value,
            "after": FIRST_TEXT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        return self._models(Memory, await self._db.fetch_all(sql, params))

    async def update(self, memory_id: str, changes: MemoryUpdate) -> Memory:
        """Change the given fields in one statement; NotFoundError if absent."""
        params = changes.to_params()
        params["id"] = memory_id
        params["updated_at"] = stamp()
        row = await self._db.fetch_one(MemoryQueries.update, params)
        if row is None:
            raise NotFoundError("memory", memory_id)
        return self._model(Memory, row)

    async def delete(self, memory_id: str) -> None:
        """Delete the memory; NotFoundError if absent."""
        result = await self._db.execute(MemoryQueries.delete, {"id": memory_id})
        if result.rows_affected == 0:
            raise NotFoundError("memory", memory_id)


__all__ = ["MemoryRepository"]
