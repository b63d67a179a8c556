"""Embeddings: an agent's vectors, optionally tied to one conversation (migration 009)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from agentsdb.ids import new_id
from agentsdb.models._pydantic import set_derived
from agentsdb.models._record import Key, Record, Timestamp, now
from agentsdb.rules.content import text_content_hash


class EmbeddingSource(StrEnum):
    """Where an embedding came from: 'legacy' marks a moved vector whose conversation was gone."""

    AGENTSDB = "agentsdb"
    LEGACY = "legacy"


def embedding_content_hash(content: str) -> str:
    """SHA-256 of the content with runs of whitespace made one space and the ends trimmed (the
    rule :func:`agentsdb.rules.content.text_content_hash`)."""
    return text_content_hash(content)


class Embedding(Record):
    """One stored vector and the text it encodes."""

    id: Key = Field(default_factory=new_id)
    agent_id: Key
    conversation_id: Key | None = None
    content: str
    content_hash: str = ""
    embedding: bytes | None = None
    source: EmbeddingSource = EmbeddingSource.AGENTSDB
    created_at: Timestamp = Field(default_factory=now)

    @model_validator(mode="after")
    def _default_hash(self) -> Self:
        if not self.content_hash:
            set_derived(self, "content_hash", embedding_content_hash(self.content))
        return self


__all__ = ["Embedding", "EmbeddingSource", "embedding_content_hash"]
