"""SQL for the agent-scope move: dual-write inserts and scoped embedding reads (migration 009).

During the dual-write window a conversation or message written by agentsdb also carries the
legacy ``persona_id`` (its agent's), so readers of the persona columns keep working.
"""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list

_CONVERSATION = ("id", "agent_id", "user_id", "title", "created_at", "updated_at")
_MESSAGE = (
    "conversation_id",
    "from_agent_id",
    "role",
    "content",
    "content_hash",
    "tool_calls",
    "created_at",
    "client_message_id",
)
_EMBEDDING = (
    "id",
    "agent_id",
    "conversation_id",
    "content",
    "content_hash",
    "embedding",
    "source",
    "created_at",
)
_EMBEDDING_COLUMNS = column_list(_EMBEDDING)


class DualWriteQueries:
    """Inserts that fill both the agent and the persona columns."""

    insert_conversation = f"""INSERT INTO conversations ({column_list(_CONVERSATION)}, persona_id)
VALUES ({param_list(_CONVERSATION)}, (SELECT persona_id FROM agents WHERE id = :agent_id))"""

    #: Returns the new row's ``id``, or no row when the conversation already has a message with
    #: this ``client_message_id`` (as :attr:`MessageQueries.insert_if_absent`).
    insert_message_if_absent = f"""INSERT INTO messages ({column_list(_MESSAGE)}, persona_id)
VALUES ({param_list(_MESSAGE)}, (SELECT persona_id FROM agents WHERE id = :from_agent_id))
ON CONFLICT (conversation_id, client_message_id) DO NOTHING
RETURNING id"""


class EmbeddingQueries:
    """SQL for ``embeddings``."""

    columns = _EMBEDDING_COLUMNS

    insert = f"INSERT INTO embeddings ({_EMBEDDING_COLUMNS}) VALUES ({param_list(_EMBEDDING)})"

    get_by_id = f"SELECT {_EMBEDDING_COLUMNS} FROM embeddings WHERE id = :id"

    #: Scoped read: the conversation's embeddings first, then the rest of the agent's, each
    #: part in id order. ``:conversation_id`` NULL reads the agent's only.
    list_scoped = f"""SELECT {_EMBEDDING_COLUMNS} FROM embeddings
WHERE agent_id = :agent_id OR conversation_id = :conversation_id
ORDER BY CASE WHEN conversation_id = :conversation_id THEN 0 ELSE 1 END, id
LIMIT :limit"""


__all__ = ["DualWriteQueries", "EmbeddingQueries"]
