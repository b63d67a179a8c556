"""The ``agent-scope`` job's memory-vectors step: each legacy vector becomes an embedding of
its persona's agent (the model :class:`~agentsdb.models.Embedding` decides what is stored),
tied to its conversation when the job stores that conversation, else tagged ``legacy``."""

from __future__ import annotations

from typing import Any

from agentsdb.db.base import ExecuteMany, Program, Row
from agentsdb.jobs.agent_scope_common import (
    EMBEDDINGS,
    agents_of,
    conversation_accepted,
    existing,
    is_blank,
    keys,
    persona_accepted,
)
from agentsdb.jobs.checked import checked
from agentsdb.jobs.framework import Step
from agentsdb.jobs.report import JobReport
from agentsdb.models import Embedding, EmbeddingSource
from agentsdb.rules.timestamps import Clock

_EMBEDDING_COLUMNS = tuple(Embedding.model_fields)
_INSERT_EMBEDDING = f"""INSERT INTO embeddings ({", ".join(_EMBEDDING_COLUMNS)})
VALUES ({", ".join(":" + c for c in _EMBEDDING_COLUMNS)})
ON CONFLICT (id) DO NOTHING"""


class VectorsStep(Step):
    """Memory vectors (an optional table) into ``embeddings``, in id order."""

    optional = True

    def __init__(self, prefix: str, clock: Clock) -> None:
        self.table = f"{prefix}memory_vectors"
        self._conversations = f"{prefix}conversations"
        self._personas = f"{prefix}personas"
        self._clock = clock

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE v.id > :k0 "
        return f"""SELECT v.id, v.persona_id, v.conversation_id, v.content, v.embedding,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source,
    p.name AS persona_name, p.is_active AS persona_active,
    c.id AS source_conversation, c.persona_id AS conversation_persona,
    c.title AS conversation_title,
    CASE WHEN cp.id IS NULL THEN 0 ELSE 1 END AS conversation_persona_in_source,
    cp.name AS conversation_persona_name, cp.is_active AS conversation_persona_active
FROM {self.table} v
    LEFT JOIN {self._personas} p ON p.id = v.persona_id
    LEFT JOIN {self._conversations} c ON c.id = v.conversation_id
    LEFT JOIN {self._personas} cp ON cp.id = c.persona_id
{where}ORDER BY v.id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        personas = keys([r[c] for r in rows for c in ("persona_id", "conversation_persona")])
        known: list[Row] = (yield agents_of(personas)) if personas else []
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = keys([r["conversation_id"] for r in rows])
        stored: list[Row] = (
            (yield existing("conversations", conversation_ids)) if conversation_ids else []
        )
        have_conversations = {str(r["id"]) for r in stored}
        ids = keys([r["id"] for r in rows])
        present: list[Row] = (yield existing("embeddings", ids)) if ids else []
        have = {str(r["id"]) for r in present}
        now = self._clock()
        vectors: list[dict[str, Any]] = []
        for row in rows:
            if str(row["id"]) in have:
                report.unchanged(EMBEDDINGS)
                continue
            persona = row["persona_id"]
            if is_blank(persona) or (
                str(persona) not in agent_of
                and not (
                    row["persona_in_source"]
                    and persona_accepted(persona, row["persona_name"], row["persona_active"])
                )
            ):
                report.skipped(EMBEDDINGS, "unknown persona")
                continue
            persona = str(persona)
            conversation = row["conversation_id"]
            owner = row["conversation_persona"]
            known_conversation = conversation is not None and (
                str(conversation) in have_conversations
                or (
                    row["source_conversation"] is not None
                    and conversation_accepted(conversation, row["conversation_title"])
                    and not is_blank(owner)
                    and (
                        str(owner) in agent_of
                        or (
                            bool(row["conversation_persona_in_source"])
                            and persona_accepted(
                                owner,
                                row["conversation_persona_name"],
                                row["conversation_persona_active"],
                            )
                        )
                    )
                )
            )
            embedding = checked(
                Embedding,
                {
                    "id": row["id"],
                    # A dry run may not have the agent: the persona's id stands in for the check.
                    "agent_id": agent_of.get(persona, persona),
                    "conversation_id": conversation if known_conversation else None,
                    "content": "" if row["content"] is None else row["content"],
                    "embedding": row["embedding"],
                    "source": (
                        EmbeddingSource.AGENTSDB if known_conversation else EmbeddingSource.LEGACY
                    ),
                    "created_at": now,
                },
            )
            if isinstance(embedding, str):
                report.skipped(EMBEDDINGS, embedding)
                continue
            report.created(EMBEDDINGS)
            vectors.append({**embedding.to_params(), "agent_id": agent_of.get(persona)})
        if write and vectors:
            yield ExecuteMany(_INSERT_EMBEDDING, vectors)


__all__ = ["VectorsStep"]
