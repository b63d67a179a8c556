"""Memories: create, look up by id or name, list, update and delete."""

from __future__ import annotations

import builtins

from agentsdb.db.text_search import text_search_of
from agentsdb.errors import NotFoundError, ValidationError
from agentsdb.models.memory import Memory, MemoryUpdate, ReadMode
from agentsdb.models.search import MemorySearchHit, Page
from agentsdb.queries.memories import MemoryQueries
from agentsdb.queries.search import memory_search
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
)
from agentsdb.repositories._search import next_cursor, ranked_rows, search_request
from agentsdb.rules.text import (
    check_choice,
    check_cursor,
    check_key,
    check_name,
    check_optional_key,
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
        check_key("MemoryRepository.get", "memory_id", memory_id)
        row = await self._db.fetch_one(MemoryQueries.get_by_id, {"id": memory_id})
        return self._model_or_none(Memory, row)

    async def get_by_name(
        self, name: str, *, agent_id: str, user_id: str | None = None
    ) -> Memory | None:
        """The agent's memory of that name for that user (None: the shared one), or None."""
        check_name("MemoryRepository.get_by_name", "name", name)
        check_key("MemoryRepository.get_by_name", "agent_id", agent_id)
        check_optional_key("MemoryRepository.get_by_name", "user_id", user_id)
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
            raise ValidationError.refuse(
                "MemoryRepository.list", "agent_id", None, "give agent_id, user_id or both"
            )
        return await self._page(
            "MemoryRepository.list", sql, agent_id, user_id, read_mode, limit, after
        )

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
        check_key("MemoryRepository.list_visible", "agent_id", agent_id)
        check_key("MemoryRepository.list_visible", "user_id", user_id)
        return await self._page(
            "MemoryRepository.list_visible",
            MemoryQueries.list_visible,
            agent_id,
            user_id,
            read_mode,
            limit,
            after,
        )

    async def _page(
        self,
        title: str,
        sql: str,
        agent_id: str | None,
        user_id: str | None,
        read_mode: ReadMode | str | None,
        limit: int,
        after: str | None,
    ) -> builtins.list[Memory]:
        check_optional_key(title, "agent_id", agent_id)
        check_optional_key(title, "user_id", user_id)
        check_cursor(title, "after", after)
        mode = None if read_mode is None else check_choice(title, "read_mode", read_mode, ReadMode)
        params = {
            "agent_id": agent_id,
            "user_id": user_id,
            "read_mode": None if mode is None else mode.value,
            "after": FIRST_TEXT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        return self._models(Memory, await self._db.fetch_all(sql, params))

    async def search(
        self,
        agent_id: str,
        text: str,
        *,
        user_id: str | None = None,
        limit: int = 20,
        after: str | None = None,
    ) -> Page[MemorySearchHit]:
        """The agent's memories that contain every word of ``text``, most relevant first.

        ``text`` is plain text (at most 1,000 characters), never query syntax: quotes,
        operators and brackets are searched as text, and blank text finds nothing. A memory's
        name, description and content are searched. ``user_id`` keeps that user's memories
        only; None searches all of the agent's memories. Pass a page's ``next`` as ``after``
        for the following page; ties in score are ordered by id.
        """
        title = "MemoryRepository.search"
        check_key(title, "agent_id", agent_id)
        check_optional_key(title, "user_id", user_id)
        request = search_request(self._db, title, text, limit, after)
        if request.query is None:
            return Page([], None)
        after_score, after_id = request.after if request.after is not None else (0.0, None)
        params = {
            "query": request.query,
            "agent_id": agent_id,
            "user_id": user_id,
            "after_score": after_score,
            "after_id": after_id,
        }
        sql = memory_search(text_search_of(self._db).memory_hits)
        scored, more = await ranked_rows(self._db, sql, params, request.limit)
        hits = [MemorySearchHit(self._model(Memory, row), score) for row, score in scored]
        return Page(hits, next_cursor(scored, more))

    async def update(self, memory_id: str, changes: MemoryUpdate) -> Memory:
        """Change the given fields in one statement; NotFoundError if absent."""
        check_key("MemoryRepository.update", "memory_id", memory_id)
        params = changes.to_params()
        params["id"] = memory_id
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(MemoryQueries.update, params)
        if row is None:
            raise NotFoundError("memory", memory_id)
        return self._model(Memory, row)

    async def delete(self, memory_id: str) -> None:
        """Delete the memory; NotFoundError if absent."""
        check_key("MemoryRepository.delete", "memory_id", memory_id)
        result = await self._db.execute(MemoryQueries.delete, {"id": memory_id})
        if result.rows_affected == 0:
            raise NotFoundError("memory", memory_id)


__all__ = ["MemoryRepository"]
