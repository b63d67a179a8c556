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

from typing import Any

from agentsdb.clock import utc_now_text
from agentsdb.db.base import Database, ExecuteMany, Program, Row
from agentsdb.ids import new_id
from agentsdb.jobs.agent_scope_common import (
    AGENTS,
    CONVERSATIONS,
    EMBEDDINGS,
    MESSAGES,
    agents_of,
    existing,
    is_blank,
)
from agentsdb.jobs.agent_scope_messages import MessagesStep
from agentsdb.jobs.bluesky_profiles import LEGACY_MODEL
from agentsdb.jobs.convert import to_clock
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Job, Step
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, table_columns
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, count, skipped_of, skips_of
from agentsdb.rules.content import text_content_hash


class _Personas(Step):
    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}personas"

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE id > :k0 "
        return f"SELECT id, name, is_active FROM {self.table} {where}ORDER BY id LIMIT :limit"

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        known = yield agents_of([str(r["id"]) for r in rows])
        have = {str(r["persona_id"]) for r in known}
        now = utc_now_text()
        agents: list[dict[str, Any]] = []
        for row in rows:
            persona = str(row["id"])
            if is_blank(persona):
                report.skipped(AGENTS, "empty persona id")
            elif persona in have:
                report.unchanged(AGENTS)
            else:
                report.created(AGENTS)
                active = row["is_active"] is None or bool(row["is_active"])
                agents.append(
                    {
                        "id": new_id(),
                        "name": persona if is_blank(row["name"]) else row["name"],
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
        known = yield agents_of([str(r["persona_id"]) for r in rows if r["persona_id"]])
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        stored = yield existing("conversations", [str(r["id"]) for r in rows])
        have = {str(r["id"]) for r in stored}
        now = utc_now_text()
        conversations: list[dict[str, Any]] = []
        for row in rows:
            persona = row["persona_id"]
            if str(row["id"]) in have:
                report.unchanged(CONVERSATIONS)
            elif is_blank(persona):
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
        known = yield agents_of(personas)
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = [str(r["conversation_id"]) for r in rows if r["conversation_id"]]
        stored: list[Row] = []
        if conversation_ids:
            stored = yield existing("conversations", conversation_ids)
        have_conversations = {str(r["id"]) for r in stored}
        present = yield existing("embeddings", [str(r["id"]) for r in rows])
        have = {str(r["id"]) for r in present}
        now = utc_now_text()
        vectors: list[dict[str, Any]] = []
        for row in rows:
            persona = row["persona_id"]
            if str(row["id"]) in have:
                report.unchanged(EMBEDDINGS)
                continue
            if is_blank(persona) or (persona not in agent_of and not row["persona_in_source"]):
                report.skipped(EMBEDDINGS, "unknown persona")
                continue
            conversation = row["conversation_id"]
            known_conversation = conversation is not None and (
                str(conversation) in have_conversations
                or (
                    row["source_conversation"] is not None
                    and not is_blank(row["conversation_persona"])
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
            MessagesStep(p),
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
