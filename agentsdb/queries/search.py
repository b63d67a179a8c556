"""SQL of full-text search over memories and messages, around a backend's *hits* relation.

The hits come from :class:`agentsdb.db.text_search.TextSearch` (``:query``); these queries scope
them to an agent (and optionally a user or conversation), join the rows, and keyset-page them
by ``(score DESC, id ASC)``: the cursor is the last hit's score and id, and the next page holds
the hits after it in that order (``:after_id`` NULL for the first page). Ties in score are
broken by id, so every hit has one place in the order and a page boundary never drops or repeats
one while the index is unchanged.
"""

from __future__ import annotations

from functools import cache

from agentsdb.queries.memories import MemoryQueries
from agentsdb.queries.messages import MessageQueries


def _qualified(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in columns.split(", "))


@cache
def memory_search(hits: str) -> str:
    """An agent's memories matching ``:query`` (``:user_id`` NULL: any user's and shared)."""
    return f"""SELECT {_qualified(MemoryQueries.columns, "m")}, h.score AS score
FROM ({hits}) AS h JOIN memories AS m ON m.id = h.memory_id
WHERE m.agent_id = :agent_id
    AND (CAST(:user_id AS TEXT) IS NULL OR m.user_id = :user_id)
    AND (CAST(:after_id AS TEXT) IS NULL
        OR h.score < :after_score
        OR (h.score = :after_score AND m.id > :after_id))
ORDER BY h.score DESC, m.id
LIMIT :limit"""


@cache
def message_search(hits: str) -> str:
    """Messages of an agent's conversations matching ``:query``, optionally of one user's
    conversations (``:user_id``) or of one conversation (``:conversation_id``).
    """
    return f"""SELECT {_qualified(MessageQueries.columns, "m")}, h.score AS score
FROM ({hits}) AS h
    JOIN messages AS m ON m.id = h.message_id
    JOIN conversations AS c ON c.id = m.conversation_id
WHERE c.agent_id = :agent_id
    AND (CAST(:user_id AS TEXT) IS NULL OR c.user_id = :user_id)
    AND (CAST(:conversation_id AS TEXT) IS NULL OR c.id = :conversation_id)
    AND (CAST(:after_id AS BIGINT) IS NULL
        OR h.score < :after_score
        OR (h.score = :after_score AND m.id > :after_id))
ORDER BY h.score DESC, m.id
LIMIT :limit"""


__all__ = ["memory_search", "message_search"]
