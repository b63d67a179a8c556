"""What the ``agent-scope`` job's steps share: the target tables' names, the legacy roles, and
the lookups of agents by persona and of rows by id in the target."""

from __future__ import annotations

from agentsdb.db.base import FetchAll
from agentsdb.jobs.convert import in_list, in_params

AGENTS = "agents"
CONVERSATIONS = "conversations"
MESSAGES = "messages"
EMBEDDINGS = "embeddings"
ROLES = frozenset({"user", "assistant", "system", "tool"})


def is_blank(value: object) -> bool:
    """True for a legacy value that is not text or only whitespace."""
    return not isinstance(value, str) or not value.strip()


def agents_of(persona_ids: list[str]) -> FetchAll:
    """The read of the target's agents (``id``, ``persona_id``) of these personas."""
    ids = sorted(set(persona_ids))
    return FetchAll(
        f"SELECT id, persona_id FROM agents WHERE persona_id IN ({in_list('p', len(ids))})",
        in_params("p", ids),
    )


def existing(table: str, ids: list[str]) -> FetchAll:
    """The read of which of these ids ``table`` in the target holds."""
    unique = sorted(set(ids))
    return FetchAll(
        f"SELECT id FROM {table} WHERE id IN ({in_list('i', len(unique))})",
        in_params("i", unique),
    )


__all__ = [
    "AGENTS",
    "CONVERSATIONS",
    "EMBEDDINGS",
    "MESSAGES",
    "ROLES",
    "agents_of",
    "existing",
    "is_blank",
]
