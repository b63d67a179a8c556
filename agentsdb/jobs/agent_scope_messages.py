"""The ``agent-scope`` job's messages step: each legacy message is one turn, stored under its
legacy id as ``client_message_id`` and hashed by the models' rule; rows a run before migration
014 wrote (without a key) are adopted."""

from __future__ import annotations

import hashlib
from typing import Any

from agentsdb.clock import utc_now_text
from agentsdb.db.base import Database, ExecuteMany, FetchAll, Program, Row
from agentsdb.errors import ValidationError
from agentsdb.jobs.agent_scope_common import MESSAGES, ROLES, agents_of, existing, is_blank
from agentsdb.jobs.convert import in_list, in_params, to_clock
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Step
from agentsdb.jobs.report import JobReport
from agentsdb.rules.content import message_content_hash, normalize_whitespace
from agentsdb.rules.text import check_key


def _pre_014_hash(role: str, content: str) -> str:
    """The hash this job stored before migration 014: SHA-256 of the role and the
    whitespace-normalized content. Used only to find the rows such a run wrote (they carry no
    key), never to hash a new row: :func:`agentsdb.rules.content.message_content_hash` does."""
    return hashlib.sha256(f"{role}\n{normalize_whitespace(content)}".encode()).hexdigest()


def _key_problem(key: str) -> str | None:
    """Why a legacy message id cannot be a ``client_message_id`` (the id rules), or None."""
    try:
        check_key("agent-scope", "messages.id", key)
    except ValidationError:
        return "invalid id"
    return None


class MessagesStep(Step):
    """Messages with a conversation, in id order. Each is one turn, stored under its legacy id
    as ``client_message_id``: a message whose id its conversation holds is there already."""

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}messages"
        self._conversations = f"{prefix}conversations"
        self._personas = f"{prefix}personas"

    def count_sql(self) -> str:
        return f"SELECT COUNT(*) AS n FROM {self.table} WHERE conversation_id IS NOT NULL"

    def select(self, first: bool) -> str:
        after = "" if first else "AND m.id > :k0 "
        return f"""SELECT m.id, m.conversation_id, m.persona_id, m.role, m.content, m.created_at,
    c.id AS source_conversation, c.persona_id AS conversation_persona,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source
FROM {self.table} m
    LEFT JOIN {self._conversations} c ON c.id = m.conversation_id
    LEFT JOIN {self._personas} p ON p.id = c.persona_id
WHERE m.conversation_id IS NOT NULL {after}ORDER BY m.id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    async def start(self, source: Database, resume_key: list[Any] | None) -> None:
        if resume_key is not None and len(resume_key) != 1:
            raise JobError(
                "agent-scope: the checkpoint was written by an older version, which read "
                "messages in (conversation, id) order; finish that run with the version that "
                "started it"
            )

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        personas = [str(r[c]) for r in rows for c in ("persona_id", "conversation_persona") if r[c]]
        known = yield agents_of(personas)
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = sorted({str(r["conversation_id"]) for r in rows})
        stored = yield existing("conversations", conversation_ids)
        have = {str(r["id"]) for r in stored}
        now = utc_now_text()
        candidates: list[dict[str, Any]] = []
        for row in rows:
            conversation = str(row["conversation_id"])
            persona = row["conversation_persona"]
            known_conversation = conversation in have or (
                row["source_conversation"] is not None
                and not is_blank(persona)
                and (persona in agent_of or bool(row["persona_in_source"]))
            )
            if not known_conversation:
                report.skipped(MESSAGES, "unknown conversation")
            elif row["role"] not in ROLES:
                report.skipped(MESSAGES, "invalid role")
            elif row["content"] is None:
                report.skipped(MESSAGES, "no content")
            elif _key_problem(str(row["id"])) is not None:
                report.skipped(MESSAGES, "invalid id")
            else:
                sender = agent_of.get(row["persona_id"]) if row["persona_id"] else None
                content = str(row["content"])
                candidates.append(
                    {
                        "conversation_id": conversation,
                        "from_agent_id": sender,
                        "persona_id": row["persona_id"],
                        "role": row["role"],
                        "content": content,
                        "content_hash": message_content_hash(row["role"], content, (), sender),
                        "created_at": to_clock(row["created_at"], now),
                        "client_message_id": str(row["id"]),
                    }
                )
        messages, adopted = yield from _new_and_adopted(candidates, report)
        if write and adopted:
            yield ExecuteMany(
                """UPDATE messages SET client_message_id = :client_message_id,
    content_hash = :content_hash
WHERE id = :id AND client_message_id IS NULL""",
                adopted,
            )
        if write and messages:
            yield ExecuteMany(
                """INSERT INTO messages (conversation_id, from_agent_id, persona_id, role, content,
    content_hash, tool_calls, created_at, client_message_id)
VALUES (:conversation_id, :from_agent_id, :persona_id, :role, :content,
    :content_hash, '[]', :created_at, :client_message_id)
ON CONFLICT (conversation_id, client_message_id) DO NOTHING""",
                messages,
            )


def _new_and_adopted(
    candidates: list[dict[str, Any]], report: JobReport
) -> Program[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Split a batch's writable messages (in legacy id order) into the ones to insert and the
    rows a run before migration 014 stored without a key, each to be given its legacy id.

    A message whose key its conversation holds is unchanged. Otherwise it adopts the oldest
    keyless row of its conversation with its pre-014 hash that no earlier message adopted: that
    run stored each (conversation, hash) once, keeping the first message in id order, so the
    first message takes the row and later ones with the same text are stored as turns of their
    own.
    """
    if not candidates:
        return [], []
    conversations = sorted({m["conversation_id"] for m in candidates})
    keys = sorted({m["client_message_id"] for m in candidates})
    keyed = yield FetchAll(
        "SELECT conversation_id, client_message_id FROM messages"
        f" WHERE conversation_id IN ({in_list('c', len(conversations))})"
        f" AND client_message_id IN ({in_list('k', len(keys))})",
        {**in_params("c", conversations), **in_params("k", keys)},
    )
    present = {(str(r["conversation_id"]), str(r["client_message_id"])) for r in keyed}
    old_hashes = [
        None
        if (m["conversation_id"], m["client_message_id"]) in present
        else _pre_014_hash(m["role"], m["content"])
        for m in candidates
    ]
    keyless: dict[tuple[str, str], list[int]] = {}
    hashes = sorted({h for h in old_hashes if h is not None})
    if hashes:
        found = yield FetchAll(
            "SELECT id, conversation_id, content_hash FROM messages"
            f" WHERE conversation_id IN ({in_list('c', len(conversations))})"
            f" AND content_hash IN ({in_list('h', len(hashes))})"
            " AND client_message_id IS NULL ORDER BY id",
            {**in_params("c", conversations), **in_params("h", hashes)},
        )
        for r in found:
            pair = (str(r["conversation_id"]), str(r["content_hash"]))
            keyless.setdefault(pair, []).append(int(r["id"]))
    new: list[dict[str, Any]] = []
    adopted: list[dict[str, Any]] = []
    for message, old_hash in zip(candidates, old_hashes, strict=True):
        key = (message["conversation_id"], message["client_message_id"])
        if old_hash is None or key in present:
            report.unchanged(MESSAGES)
            continue
        present.add(key)
        rows = keyless.get((message["conversation_id"], old_hash))
        if rows:
            report.unchanged(MESSAGES)
            adopted.append(
                {
                    "id": rows.pop(0),
                    "client_message_id": message["client_message_id"],
                    "content_hash": message["content_hash"],
                }
            )
        else:
            report.created(MESSAGES)
            new.append(message)
    return new, adopted


__all__ = ["MessagesStep"]
