"""Job ``agent-scope``: persona-keyed conversations become agent-scoped.

One agent per persona (recording ``persona_id`` and a new ``memory_root_id``); each conversation
gets its persona's agent; each message is one turn, stored with ``from_agent_id``, its legacy id
as ``client_message_id`` (so a re-run, or a retry through ``MessageRepository`` with that key,
stores it once) and the content hash of :func:`agentsdb.rules.content.message_content_hash`, the
models' own; memory vectors move to ``embeddings`` stamped with agent and conversation and the
hash of :func:`agentsdb.rules.content.text_content_hash`, tagged ``source = 'legacy'`` when their
conversation is unknown. The persona columns are kept beside the agent columns for the
dual-write window (see migration 010 for cutover).

The legacy ``conversations`` and ``messages`` tables share their names with agentsdb's own, so
the source is another database, or the legacy tables carry a prefix (``source_prefix``).

Every table is read in primary-key order, which needs no index but the key itself; the source is
never asked for a conversation's messages.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agentsdb.clock import utc_now_text
from agentsdb.db.base import Database, ExecuteMany, FetchAll, Program, Row
from agentsdb.errors import ValidationError
from agentsdb.ids import new_id
from agentsdb.jobs.bluesky_profiles import LEGACY_MODEL
from agentsdb.jobs.convert import in_list, in_params, to_clock
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Job, Step
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, table_columns
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, count, skipped_of, skips_of
from agentsdb.rules.content import message_content_hash, normalize_whitespace, text_content_hash
from agentsdb.rules.text import check_key

AGENTS = "agents"
CONVERSATIONS = "conversations"
MESSAGES = "messages"
EMBEDDINGS = "embeddings"
ROLES = frozenset({"user", "assistant", "system", "tool"})


def _blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def _agents_of(persona_ids: list[str]) -> FetchAll:
    ids = sorted(set(persona_ids))
    return FetchAll(
        f"SELECT id, persona_id FROM agents WHERE persona_id IN ({in_list('p', len(ids))})",
        in_params("p", ids),
    )


def _existing(table: str, ids: list[str]) -> FetchAll:
    unique = sorted(set(ids))
    return FetchAll(
        f"SELECT id FROM {table} WHERE id IN ({in_list('i', len(unique))})",
        in_params("i", unique),
    )


class _Personas(Step):
    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}personas"

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE id > :k0 "
        return f"SELECT id, name, is_active FROM {self.table} {where}ORDER BY id LIMIT :limit"

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        known = yield _agents_of([str(r["id"]) for r in rows])
        have = {str(r["persona_id"]) for r in known}
        now = utc_now_text()
        agents: list[dict[str, Any]] = []
        for row in rows:
            persona = str(row["id"])
            if _blank(persona):
                report.skipped(AGENTS, "empty persona id")
            elif persona in have:
                report.unchanged(AGENTS)
            else:
                report.created(AGENTS)
                active = row["is_active"] is None or bool(row["is_active"])
                agents.append(
                    {
                        "id": new_id(),
                        "name": persona if _blank(row["name"]) else row["name"],
                        "model": LEGACY_MODEL,
                        "persona_id": persona,
                        "memory_root_id": new_id(),
                        "status": "active" if active else "archived",
                        "archived_at": None if active else now,
                        "archive_reason": None if active else "inactive legacy persona",
                        "now": now,
                    }
                )
        if write and agents:
            yield ExecuteMany(
                """INSERT INTO agents (id, name, model, persona_id, memory_root_id, status,
    archived_at, archive_reason, created_at, updated_at)
VALUES (:id, :name, :model, :persona_id, :memory_root_id, :status,
    :archived_at, :archive_reason, :now, :now)
ON CONFLICT (persona_id) DO NOTHING""",
                agents,
            )


class _Conversations(Step):
    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}conversations"
        self._personas = f"{prefix}personas"

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE c.id > :k0 "
        return f"""SELECT c.id, c.persona_id, c.title, c.created_at,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source
FROM {self.table} c LEFT JOIN {self._personas} p ON p.id = c.persona_id
{where}ORDER BY c.id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        known = yield _agents_of([str(r["persona_id"]) for r in rows if r["persona_id"]])
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        stored = yield _existing("conversations", [str(r["id"]) for r in rows])
        have = {str(r["id"]) for r in stored}
        now = utc_now_text()
        conversations: list[dict[str, Any]] = []
        for row in rows:
            persona = row["persona_id"]
            if str(row["id"]) in have:
                report.unchanged(CONVERSATIONS)
            elif _blank(persona):
                report.skipped(CONVERSATIONS, "no persona")
            elif persona not in agent_of and not row["persona_in_source"]:
                report.skipped(CONVERSATIONS, "unknown persona")
            else:
                report.created(CONVERSATIONS)
                conversations.append(
                    {
                        "id": row["id"],
                        "agent_id": agent_of.get(persona),
                        "persona_id": persona,
                        "title": row["title"],
                        "created_at": to_clock(row["created_at"], now),
                        "updated_at": now,
                    }
                )
        if write and conversations:
            yield ExecuteMany(
                """INSERT INTO conversations
    (id, agent_id, persona_id, title, created_at, updated_at)
VALUES (:id, :agent_id, :persona_id, :title, :created_at, :updated_at)
ON CONFLICT (id) DO NOTHING""",
                conversations,
            )


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


class _Messages(Step):
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
        known = yield _agents_of(personas)
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = sorted({str(r["conversation_id"]) for r in rows})
        stored = yield _existing("conversations", conversation_ids)
        have = {str(r["id"]) for r in stored}
        now = utc_now_text()
        candidates: list[dict[str, Any]] = []
        for row in rows:
            conversation = str(row["conversation_id"])
            persona = row["conversation_persona"]
            known_conversation = conversation in have or (
                row["source_conversation"] is not None
                and not _blank(persona)
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


class _MessagesWithoutConversation(Step):
    """Messages whose conversation id is NULL: counted as skipped, never written."""

    name = "messages without conversation"

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}messages"

    def count_sql(self) -> str:
        return f"SELECT COUNT(*) AS n FROM {self.table} WHERE conversation_id IS NULL"

    def select(self, first: bool) -> str:
        after = "" if first else "AND id > :k0 "
        return f"""SELECT id FROM {self.table}
WHERE conversation_id IS NULL {after}ORDER BY id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        report.skipped(MESSAGES, "no conversation", len(rows))
        return
        yield  # a program that needs no database


class _Vectors(Step):
    optional = True

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}memory_vectors"
        self._conversations = f"{prefix}conversations"
        self._personas = f"{prefix}personas"

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE v.id > :k0 "
        return f"""SELECT v.id, v.persona_id, v.conversation_id, v.content, v.embedding,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source,
    c.id AS source_conversation, c.persona_id AS conversation_persona,
    CASE WHEN cp.id IS NULL THEN 0 ELSE 1 END AS conversation_persona_in_source
FROM {self.table} v
    LEFT JOIN {self._personas} p ON p.id = v.persona_id
    LEFT JOIN {self._conversations} c ON c.id = v.conversation_id
    LEFT JOIN {self._personas} cp ON cp.id = c.persona_id
{where}ORDER BY v.id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        personas = [str(r[c]) for r in rows for c in ("persona_id", "conversation_persona") if r[c]]
        known = yield _agents_of(personas)
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = [str(r["conversation_id"]) for r in rows if r["conversation_id"]]
        stored: list[Row] = []
        if conversation_ids:
            stored = yield _existing("conversations", conversation_ids)
        have_conversations = {str(r["id"]) for r in stored}
        present = yield _existing("embeddings", [str(r["id"]) for r in rows])
        have = {str(r["id"]) for r in present}
        now = utc_now_text()
        vectors: list[dict[str, Any]] = []
        for row in rows:
            persona = row["persona_id"]
            if str(row["id"]) in have:
                report.unchanged(EMBEDDINGS)
                continue
            if _blank(persona) or (persona not in agent_of and not row["persona_in_source"]):
                report.skipped(EMBEDDINGS, "unknown persona")
                continue
            conversation = row["conversation_id"]
            known_conversation = conversation is not None and (
                str(conversation) in have_conversations
                or (
                    row["source_conversation"] is not None
                    and not _blank(row["conversation_persona"])
                    and (
                        row["conversation_persona"] in agent_of
                        or bool(row["conversation_persona_in_source"])
                    )
                )
            )
            content = "" if row["content"] is None else str(row["content"])
            report.created(EMBEDDINGS)
            vectors.append(
                {
                    "id": row["id"],
                    "agent_id": agent_of.get(persona),
                    "conversation_id": conversation if known_conversation else None,
                    "content": content,
                    "content_hash": text_content_hash(content),
                    "embedding": row["embedding"],
                    "source": "agentsdb" if known_conversation else "legacy",
                    "created_at": now,
                }
            )
        if write and vectors:
            yield ExecuteMany(
                """INSERT INTO embeddings (id, agent_id, conversation_id, content, content_hash,
    embedding, source, created_at)
VALUES (:id, :agent_id, :conversation_id, :content, :content_hash,
    :embedding, :source, :created_at)
ON CONFLICT (id) DO NOTHING""",
                vectors,
            )


class AgentScopeJob(Job):
    """Legacy personas, conversations, messages and memory vectors into agent-scoped rows."""

    name = "agent-scope"

    def __init__(self, source_prefix: str = "") -> None:
        self.prefix = source_prefix

    def source_tables(self) -> tuple[SourceTable, ...]:
        p = self.prefix
        return (
            SourceTable(f"{p}personas", ("id", "name", "is_active")),
            SourceTable(f"{p}conversations", ("id", "persona_id", "title", "created_at")),
            SourceTable(
                f"{p}messages",
                ("id", "conversation_id", "persona_id", "role", "content", "created_at"),
            ),
            SourceTable(
                f"{p}memory_vectors",
                ("id", "persona_id", "conversation_id", "content", "embedding"),
                optional=True,
            ),
        )

    async def check(self, source: Database, target: Database) -> None:
        if not self.prefix and (source is target or source.url == target.url):
            raise JobError(
                f"{self.name}: the legacy conversations and messages tables share their names "
                "with agentsdb's own; give the legacy database with --source (or, from Python, "
                "the legacy tables' prefix as source_prefix)"
            )
        await super().check(source, target)

    def steps(self, source: Database, target: Database) -> list[Step]:
        p = self.prefix
        return [
            _Personas(p),
            _Conversations(p),
            _Messages(p),
            _MessagesWithoutConversation(p),
            _Vectors(p),
        ]

    def summary(self, report: JobReport) -> str:
        return (
            f"Migrated {report.table(AGENTS).created} agents, "
            f"{report.table(CONVERSATIONS).created} conversations, "
            f"{report.table(MESSAGES).created} messages and "
            f"{report.table(EMBEDDINGS).created} embeddings."
        )

    async def validate(
        self, source: Database, target: Database, report: JobReport | None
    ) -> ValidationReport:
        p = self.prefix
        result = ValidationReport(job=self.name, skips=skips_of(report))
        pairs = [
            (
                AGENTS,
                f"{p}personas",
                "SELECT COUNT(*) AS n FROM agents WHERE persona_id IS NOT NULL",
            ),
            (
                CONVERSATIONS,
                f"{p}conversations",
                "SELECT COUNT(*) AS n FROM conversations WHERE persona_id IS NOT NULL",
            ),
            (
                MESSAGES,
                f"{p}messages",
                "SELECT COUNT(*) AS n FROM messages m JOIN conversations c"
                " ON c.id = m.conversation_id WHERE c.persona_id IS NOT NULL",
            ),
        ]
        if await table_columns(source, f"{p}memory_vectors"):
            pairs.append((EMBEDDINGS, f"{p}memory_vectors", "SELECT COUNT(*) AS n FROM embeddings"))
        for table, source_table, target_sql in pairs:
            result.parity.append(
                Parity(
                    table,
                    await count(source, f"SELECT COUNT(*) AS n FROM {source_table}"),
                    await count(target, target_sql),
                    skipped_of(report, table),
                )
            )
        for check, sql in (
            (
                "conversations without an agent",
                "conversations t LEFT JOIN agents a ON a.id = t.agent_id WHERE a.id IS NULL",
            ),
            (
                "messages without a conversation",
                "messages t LEFT JOIN conversations c ON c.id = t.conversation_id"
                " WHERE c.id IS NULL",
            ),
            (
                "embeddings without an agent",
                "embeddings t LEFT JOIN agents a ON a.id = t.agent_id WHERE a.id IS NULL",
            ),
        ):
            result.orphans.append(
                Orphans(check, await count(target, f"SELECT COUNT(*) AS n FROM {sql}"))
            )
        return result


__all__ = ["AgentScopeJob"]
