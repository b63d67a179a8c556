"""The ``agent-scope`` job's messages step: each legacy message is one turn, stored under its
legacy id as ``client_message_id`` and hashed by the models' rule; rows a run before migration
014 wrote (without a key) are adopted."""

from __future__ import annotations

import hashlib
from typing import Any

from agentsdb.db.base import Database, ExecuteMany, FetchAll, Program, Row
from agentsdb.jobs.agent_scope_common import (
    MESSAGES,
    agents_of,
    conversation_accepted,
    existing,
    is_blank,
    keys,
    legacy_key_problem,
    persona_accepted,
)
from agentsdb.jobs.checked import checked
from agentsdb.jobs.convert import in_list, in_params
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Step
from agentsdb.jobs.report import JobReport
from agentsdb.models import Message
from agentsdb.rules.content import normalize_whitespace
from agentsdb.rules.timestamps import Clock, parse_legacy_timestamp

_COLUMNS = (*(c for c in Message.model_fields if c != "id"), "persona_id")
_INSERT = f"""INSERT INTO messages ({", ".join(_COLUMNS)})
VALUES ({", ".join(":" + c for c in _COLUMNS)})
ON CONFLICT (conversation_id, client_message_id) DO NOTHING"""


def _pre_014_hash(role: str, content: str) -> str:
    """The hash this job stored before migration 014: SHA-256 of the role and the
    whitespace-normalized content. Used only to find the rows such a run wrote (they carry no
    key), never to hash a new row: :func:`agentsdb.rules.content.message_content_hash` does."""
    return hashlib.sha256(f"{role}\n{normalize_whitespace(content)}".encode()).hexdigest()


class MessagesStep(Step):
    """Messages with a conversation, in id order. Each is one turn, stored under its legacy id
    as ``client_message_id``: a message whose id its conversation holds is there already."""

    def __init__(self, prefix: str, clock: Clock) -> None:
        self.table = f"{prefix}messages"
        self._conversations = f"{prefix}conversations"
        self._personas = f"{prefix}personas"
        self._clock = clock

    def count_sql(self) -> str:
        return f"SELECT COUNT(*) AS n FROM {self.table} WHERE conversation_id IS NOT NULL"

    def select(self, first: bool) -> str:
        after = "" if first else "AND m.id > :k0 "
        return f"""SELECT m.id, m.conversation_id, m.persona_id, m.role, m.content, m.created_at,
    c.id AS source_conversation, c.persona_id AS conversation_persona,
    c.title AS conversation_title,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source,
    p.name AS persona_name, p.is_active AS persona_active
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
        personas = keys([r[c] for r in rows for c in ("persona_id", "conversation_persona")])
        known: list[Row] = (yield agents_of(personas)) if personas else []
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = keys([r["conversation_id"] for r in rows])
        stored: list[Row] = (
            (yield existing("conversations", conversation_ids)) if conversation_ids else []
        )
        have = {str(r["id"]) for r in stored}
        now = self._clock()
        candidates: list[dict[str, Any]] = []
        for row in rows:
            conversation = str(row["conversation_id"])
            persona = row["conversation_persona"]
            known_conversation = conversation in have or (
                row["source_conversation"] is not None
                and conversation_accepted(conversation, row["conversation_title"])
                and not is_blank(persona)
                and (
                    str(persona) in agent_of
                    or (
                        bool(row["persona_in_source"])
                        and persona_accepted(persona, row["persona_name"], row["persona_active"])
                    )
                )
            )
            sender = None if is_blank(row["persona_id"]) else str(row["persona_id"])
            if not known_conversation:
                report.skipped(MESSAGES, "unknown conversation")
                continue
            if row["content"] is None:
                report.skipped(MESSAGES, "no content")
                continue
            if legacy_key_problem(row["id"]) is not None:
                report.skipped(MESSAGES, "invalid id")
                continue
            if sender is not None and legacy_key_problem(sender) is not None:
                report.skipped(MESSAGES, "invalid persona id")
                continue
            message = checked(
                Message,
                {
                    "conversation_id": conversation,
                    "from_agent_id": None if sender is None else agent_of.get(sender),
                    "role": row["role"],
                    "content": row["content"],
                    "client_message_id": str(row["id"]),
                    "created_at": parse_legacy_timestamp(row["created_at"]) or now,
                },
            )
            if isinstance(message, str):
                report.skipped(MESSAGES, message)
                continue
            params = message.to_params()
            del params["id"]
            candidates.append({**params, "persona_id": sender})
        messages, adopted = yield from _new_and_adopted(candidates, report)
        if write and adopted:
            yield ExecuteMany(
                """UPDATE messages SET client_message_id = :client_message_id,
    content_hash = :content_hash
WHERE id = :id AND client_message_id IS NULL""",
                adopted,
            )
        if write and messages:
            yield ExecuteMany(_INSERT, messages)


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
