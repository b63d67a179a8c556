"""Embeddings: store, look up, and read in scope order (conversation first, then agent)."""

from __future__ import annotations

from agentsdb.models.embedding import Embedding
from agentsdb.queries.agent_scope import EmbeddingQueries
from agentsdb.repositories._base import Repository, check_limit
from agentsdb.rules.text import check_key, check_optional_key


class EmbeddingRepository(Repository):
    """The ``embeddings`` table."""

    async def create(self, embedding: Embedding) -> Embedding:
        """Store a new embedding; ForeignKeyViolationError for an unknown agent or conversation."""
        await self._db.execute(EmbeddingQueries.insert, embedding.to_params())
        return embedding

    async def get(self, embedding_id: str) -> Embedding | None:
        """The embedding, or None."""
        check_key("EmbeddingRepository.get", "embedding_id", embedding_id)
        row = await self._db.fetch_one(EmbeddingQueries.get_by_id, {"id": embedding_id})
        return self._model_or_none(Embedding, row)

    async def list_scoped(
        self, *, agent_id: str, conversation_id: str | None = None, limit: int = 100
    ) -> list[Embedding]:
        """Up to ``limit`` embeddings for a scoped read: the conversation's first, falling back
        to the rest of the agent's (each part in id order). Without a conversation: the agent's.
        """
        check_key("EmbeddingRepository.list_scoped", "agent_id", agent_id)
        check_optional_key("EmbeddingRepository.list_scoped", "conversation_id", conversation_id)
        params = {
            "agent_id": agent_id,
            "conversation_id": conversation_id,
            "limit": check_limit(limit),
        }
        return self._models(
            Embedding, await self._db.fetch_all(EmbeddingQueries.list_scoped, params)
        )


__all__ = ["EmbeddingRepository"]
