"""What the ``agent-scope`` job's steps share: the target tables' names, the lookups of agents
by persona and of rows by id in the target, and how a legacy persona or conversation becomes the
row the job writes.

Every row is built as its model (:mod:`agentsdb.jobs.checked`), so the rules of
:mod:`agentsdb.rules` decide what is written, exactly as for a write through a repository; a
row the model refuses is skipped and reported. A persona the job refuses takes its
conversations with it (and a refused conversation its messages); the later steps decide that
with the same functions, from the source row, so a dry run counts what a run writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from agentsdb.db.base import FetchAll
from agentsdb.jobs.checked import LEGACY_MODEL, checked
from agentsdb.jobs.convert import in_list, in_params
from agentsdb.models import Agent, AgentStatus, Conversation
from agentsdb.rules.text import key_problem
from agentsdb.rules.timestamps import parse_legacy_timestamp

AGENTS = "agents"
CONVERSATIONS = "conversations"
MESSAGES = "messages"
EMBEDDINGS = "embeddings"

#: The columns of ``agents`` the job writes: the model's, and the persona's two.
AGENT_COLUMNS: Final = (*Agent.model_fields, "persona_id", "memory_root_id")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_blank(value: object) -> bool:
    """True for a legacy value that is not text or only whitespace."""
    return not isinstance(value, str) or not value.strip()


def legacy_key_problem(value: object) -> str | None:
    """Why a legacy id cannot be stored as an id (``"empty"``, ``"invalid"``), or None."""
    if is_blank(value):
        return "empty"
    return None if key_problem(str(value)) is None else "invalid"


def persona_agent(
    persona_id: object,
    name: object,
    is_active: object,
    *,
    agent_id: str,
    memory_root_id: str,
    now: datetime,
) -> dict[str, Any] | str:
    """The ``agents`` row of a legacy persona (its parameters), or why it is skipped."""
    problem = legacy_key_problem(persona_id)
    if problem is not None:
        return f"{problem} persona id"
    persona = str(persona_id)
    active = is_active is None or bool(is_active)
    agent = checked(
        Agent,
        {
            "id": agent_id,
            "name": persona if is_blank(name) else name,
            "model": LEGACY_MODEL,
            "status": AgentStatus.ACTIVE if active else AgentStatus.ARCHIVED,
            "archived_at": None if active else now,
            "archive_reason": None if active else "inactive legacy persona",
            "created_at": now,
            "updated_at": now,
        },
    )
    if isinstance(agent, str):
        return agent
    return {**agent.to_params(), "persona_id": persona, "memory_root_id": memory_root_id}


def persona_accepted(persona_id: object, name: object, is_active: object) -> bool:
    """Whether the job makes an agent of this legacy persona (see :func:`persona_agent`)."""
    if legacy_key_problem(persona_id) is not None:
        return False
    key = str(persona_id)
    row = persona_agent(persona_id, name, is_active, agent_id=key, memory_root_id=key, now=_EPOCH)
    return not isinstance(row, str)


def conversation_row(
    conversation_id: object, title: object, created_at: object, *, agent_id: str, now: datetime
) -> Conversation | str:
    """The ``conversations`` row of a legacy conversation, or why it is skipped."""
    problem = legacy_key_problem(conversation_id)
    if problem is not None:
        return f"{problem} id"
    return checked(
        Conversation,
        {
            "id": conversation_id,
            "agent_id": agent_id,
            "title": title,
            "created_at": parse_legacy_timestamp(created_at) or now,
            "updated_at": now,
        },
    )


def conversation_accepted(conversation_id: object, title: object) -> bool:
    """Whether the job stores this legacy conversation, its persona aside."""
    row = conversation_row(conversation_id, title, None, agent_id="a", now=_EPOCH)
    return not isinstance(row, str)


def keys(values: list[Any]) -> list[str]:
    """The legacy values that are ids, as text, once each and sorted: only ids are looked up in
    the target (a NUL, say, is not even a valid parameter on PostgreSQL)."""
    return sorted({str(v) for v in values if legacy_key_problem(v) is None})


def agents_of(persona_ids: list[Any]) -> FetchAll:
    """The read of the target's agents (``id``, ``persona_id``) of these personas (the legacy
    values that are not ids are left out)."""
    ids = keys(persona_ids)
    return FetchAll(
        f"SELECT id, persona_id FROM agents WHERE persona_id IN ({in_list('p', len(ids))})",
        in_params("p", ids),
    )


def existing(table: str, ids: list[Any]) -> FetchAll:
    """The read of which of these ids ``table`` in the target holds (legacy values that are
    not ids are left out)."""
    unique = keys(ids)
    return FetchAll(
        f"SELECT id FROM {table} WHERE id IN ({in_list('i', len(unique))})",
        in_params("i", unique),
    )


__all__ = [
    "AGENTS",
    "AGENT_COLUMNS",
    "CONVERSATIONS",
    "EMBEDDINGS",
    "LEGACY_MODEL",
    "MESSAGES",
    "agents_of",
    "conversation_accepted",
    "conversation_row",
    "existing",
    "is_blank",
    "keys",
    "legacy_key_problem",
    "persona_accepted",
    "persona_agent",
]
