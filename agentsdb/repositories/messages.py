"""Messages: every turn appended, idempotent retries by client message id, and keyset pages."""

from __future__ import annotations

from agentsdb.db.base import Atomic, Database, FetchOne, Params, Program, Row
from agentsdb.db.text_search import text_search_of
from agentsdb.errors import AgentsDBError, IdempotencyKeyConflictError, ValidationError
from agentsdb.models.message import Message
from agentsdb.models.search import MessageSearchHit, Page
from agentsdb.queries.agent_scope import DualWriteQueries
from agentsdb.queries.messages import MessageQueries
from agentsdb.queries.search import message_search
from agentsdb.repositories._base import (
    FIRST_INT_KEY,
    Repository,
    check_limit,
)
from agentsdb.repositories._search import next_cursor, ranked_rows, search_request
from agentsdb.rules.search import int_cursor_key
from agentsdb.rules.text import check_key, check_optional_key, check_row_id
from agentsdb.rules.timestamps import Clock, now


def _append(
    params: Params, insert: str = MessageQueries.insert_if_absent
) -> Program[tuple[int | None, Row | None]]:
    """Insert the message: the new id, or (a keyed message whose key is taken) the stored row.

    A message without a key is one INSERT that always stores it. A keyed one is the INSERT and
    the read of the row holding the key in one atomic unit (one batch on libSQL), so the stored
    row cannot vanish between the two; concurrent appends with one key insert one row, because
    the unique index on (conversation, key) decides, not a read before the write.
    """
    if params["client_message_id"] is None:
        inserted = yield FetchOne(insert, params)
        existing = None
    else:
        inserted, existing = yield Atomic(
            (FetchOne(insert, params), FetchOne(MessageQueries.get_by_client_message_id, params))
        )
    if inserted is not None:
        return int(inserted["id"]), None
    return None, existing


def _same_message(stored: Message, message: Message) -> bool:
    """A retry: what the caller said is what is stored (the time and the hash may differ)."""
    return (
        stored.role == message.role
        and stored.from_agent_id == message.from_agent_id
        and stored.content == message.content
        and stored.tool_calls == message.tool_calls
    )


class MessageRepository(Repository):
    """The ``messages`` table: every message appended is a row, in append order; a conversation
    holds each ``client_message_id`` once.

    ``dual_write=True`` (the window before cutover, migration 009) also fills the legacy
    ``persona_id`` column with the sending agent's persona.
    """

    def __init__(self, db: Database, *, dual_write: bool = False, clock: Clock = now) -> None:
        super().__init__(db, clock=clock)
        self._insert = (
            DualWriteQueries.insert_message_if_absent
            if dual_write
            else MessageQueries.insert_if_absent
        )

    async def append(self, message: Message) -> Message:
        """Store the message; returns it with its id.

        A message without ``client_message_id`` is always stored, even when an earlier one says
        the same. With a key the conversation already holds, nothing is stored: a retry (same
        role, sender, content and tool calls) returns the message stored first, and a different
        message raises IdempotencyKeyConflictError. ForeignKeyViolationError when the
        conversation does not exist.
        """
        if message.id is not None:
            raise ValidationError.refuse(
                "MessageRepository.append",
                "id",
                message.id,
                "is already stored; append a new Message",
            )
        new_id, existing = await self._db.run(_append(message.to_params(), self._insert))
        if new_id is not None:
            return message.stored_as(id=new_id)
        key = message.client_message_id
        if existing is None or key is None:
            raise AgentsDBError("the message was neither inserted nor found")
        stored = self._model(Message, existing)
        if not _same_message(stored, message):
            raise IdempotencyKeyConflictError(message.conversation_id, key, int(existing["id"]))
        return stored

    async def get(self, message_id: int) -> Message | None:
        """The message, or None."""
        check_row_id("MessageRepository.get", "message_id", message_id)
        row = await self._db.fetch_one(MessageQueries.get_by_id, {"id": message_id})
        return self._model_or_none(Message, row)

    async def page(
        self, conversation_id: str, *, after: int | None = None, limit: int = 100
    ) -> list[Message]:
        """Up to ``limit`` messages after id ``after``, in append order.

        Pass the last id of a page as ``after`` for the next one.
        """
        check_key("MessageRepository.page", "conversation_id", conversation_id)
        if after is not None:
            check_row_id("MessageRepository.page", "after", after)
        params = {
            "conversation_id": conversation_id,
            "after": FIRST_INT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        rows = await self._db.fetch_all(MessageQueries.list_by_conversation, params)
        return self._models(Message, rows)

    async def list_by_agent(
        self, agent_id: str, *, after: int | None = None, limit: int = 100
    ) -> list[Message]:
        """A page of the messages an agent sent, across conversations, in append order."""
        check_key("MessageRepository.list_by_agent", "agent_id", agent_id)
        if after is not None:
            check_row_id("MessageRepository.list_by_agent", "after", after)
        params = {
            "from_agent_id": agent_id,
            "after": FIRST_INT_KEY if after is None else after,
            "limit": check_limit(limit),
        }
        return self._models(Message, await self._db.fetch_all(MessageQueries.list_by_agent, params))

    async def count(self, conversation_id: str) -> int:
        """How many messages the conversation has."""
        check_key("MessageRepository.count", "conversation_id", conversation_id)
        row = await self._db.fetch_one(
            MessageQueries.count_by_conversation, {"conversation_id": conversation_id}
        )
        return int(row["total"]) if row is not None else 0

    async def search(
        self,
        agent_id: str,
        text: str,
        *,
        user_id: str | None = None,
        conversation_id: str | None = None,
        limit: int = 20,
        after: str | None = None,
    ) -> Page[MessageSearchHit]:
        """Messages of the agent's conversations that contain every word of ``text``, most
        relevant first.

        ``text`` is plain text as in :meth:`MemoryRepository.search`. ``user_id`` keeps the
        conversations with that user, ``conversation_id`` one conversation. Pass a page's
        ``next`` as ``after`` for the following page; ties in score are ordered by id.
        """
        title = "MessageRepository.search"
        check_key(title, "agent_id", agent_id)
        check_optional_key(title, "user_id", user_id)
        check_optional_key(title, "conversation_id", conversation_id)
        request = search_request(self._db, title, text, limit, after)
        if request.query is None:
            return Page([], None)
        after_score, after_id = 0.0, None
        if request.after is not None:
            after_score = request.after[0]
            after_id = int_cursor_key(title, "after", after, request.after[1])
        params = {
            "query": request.query,
            "agent_id": agent_id,
            "user_id": user_id,
            "conversation_id": conversation_id,
            "after_score": after_score,
            "after_id": after_id,
        }
        sql = message_search(text_search_of(self._db).message_hits)
        scored, more = await ranked_rows(self._db, sql, params, request.limit)
        hits = [MessageSearchHit(self._model(Message, row), score) for row, score in scored]
        return Page(hits, next_cursor(scored, more))


__all__ = ["MessageRepository"]
