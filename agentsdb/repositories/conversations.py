"""Conversations: create, look up, list, update and delete."""

from __future__ import annotations

from agentsdb.db.base import Database
from agentsdb.errors import NotFoundError, ValidationError
from agentsdb.models.conversation import Conversation, ConversationUpdate
from agentsdb.queries.agent_scope import DualWriteQueries
from agentsdb.queries.conversations import ConversationQueries
from agentsdb.repositories._base import (
    FIRST_TEXT_KEY,
    Repository,
    check_limit,
)
from agentsdb.rules.text import check_cursor, check_key, check_optional_key
from agentsdb.rules.timestamps import Clock, now


class ConversationRepository(Repository):
    """The ``conversations`` table. Deleting a conversation deletes its messages.

    ``dual_write=True`` (the window before cutover, migration 009) also fills the legacy
    ``persona_id`` column with the agent's persona, so persona readers keep working.
    """

    def __init__(self, db: Database, *, dual_write: bool = False, clock: Clock = now) -> None:
        super().__init__(db, clock=clock)
        self._insert = DualWriteQueries.insert_conversation if dual_write else None

    async def create(self, conversation: Conversation) -> Conversation:
        """Store a new conversation; ForeignKeyViolationError for an unknown agent or user."""
        await self._db.execute(self._insert or ConversationQueries.insert, conversation.to_params())
        return conversation

    async def get(self, conversation_id: str) -> Conversation | None:
        """The conversation, or None."""
        check_key("ConversationRepository.get", "conversation_id", conversation_id)
        row = await self._db.fetch_one(ConversationQueries.get_by_id, {"id": conversation_id})
        return self._model_or_none(Conversation, row)

    async def list(
        self,
        *,
        agent_id: str | None = None,
        user_id: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Conversation]:
        """A page of an agent's and/or a user's conversations in id order.

        Pass the last id of a page as ``after`` for the next one.
        """
        check_optional_key("ConversationRepository.list", "agent_id", agent_id)
        check_optional_key("ConversationRepository.list", "user_id", user_id)
        check_cursor("ConversationRepository.list", "after", after)
        if agent_id is not None:
            sql = ConversationQueries.list_by_agent
        elif user_id is not None:
            sql = ConversationQueries.list_by_user
        else:
            raise ValidationError.refuse(
                "ConversationRepository.list", "agent_id", None, "give agent_id, user_id or both"
            )
        params = {
            "agent_id": agent_id,
            "user_id": user_id,
            "after": FIRST_TEXT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        return self._models(Conversation, await self._db.fetch_all(sql, params))

    async def update(self, conversation_id: str, changes: ConversationUpdate) -> Conversation:
        """Change the given fields in one statement; NotFoundError if absent."""
        check_key("ConversationRepository.update", "conversation_id", conversation_id)
        params = changes.to_params()
        params["id"] = conversation_id
        params["updated_at"] = self._stamp()
        row = await self._db.fetch_one(ConversationQueries.update, params)
        if row is None:
            raise NotFoundError("conversation", conversation_id)
        return self._model(Conversation, row)

    async def delete(self, conversation_id: str) -> None:
        """Delete the conversation and its messages; NotFoundError if absent."""
        check_key("ConversationRepository.delete", "conversation_id", conversation_id)
        result = await self._db.execute(ConversationQueries.delete, {"id": conversation_id})
        if result.rows_affected == 0:
            raise NotFoundError("conversation", conversation_id)


__all__ = ["ConversationRepository"]
