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

from agentsdb.db.base import Database, ExecuteMany, Program, Row
from agentsdb.jobs.agent_scope_common import (
    AGENT_COLUMNS,
    AGENTS,
    CONVERSATIONS,
    EMBEDDINGS,
    MESSAGES,
    agents_of,
    conversation_row,
    existing,
    is_blank,
    keys,
    persona_accepted,
    persona_agent,
)
from agentsdb.jobs.agent_scope_messages import MessagesStep
from agentsdb.jobs.agent_scope_vectors import VectorsStep
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Job, Step
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, table_columns
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, count, skipped_of, skips_of
from agentsdb.models import Conversation
from agentsdb.rules.ids import IdFactory, new_id
from agentsdb.rules.timestamps import Clock, utc_now

_INSERT_AGENT = f"""INSERT INTO agents ({", ".join(AGENT_COLUMNS)})
VALUES ({", ".join(":" + c for c in AGENT_COLUMNS)})
ON CONFLICT (persona_id) DO NOTHING"""

_CONVERSATION_COLUMNS = (*Conversation.model_fields, "persona_id")
_INSERT_CONVERSATION = f"""INSERT INTO conversations ({", ".join(_CONVERSATION_COLUMNS)})
VALUES ({", ".join(":" + c for c in _CONVERSATION_COLUMNS)})
ON CONFLICT (id) DO NOTHING"""


class _Personas(Step):
    def __init__(self, prefix: str, clock: Clock, new_id: IdFactory) -> None:
        self.table = f"{prefix}personas"
        self._clock = clock
        self._new_id = new_id

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE id > :k0 "
        return f"SELECT id, name, is_active FROM {self.table} {where}ORDER BY id LIMIT :limit"

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        ids = keys([r["id"] for r in rows])
        known: list[Row] = (yield agents_of(ids)) if ids else []
        have = {str(r["persona_id"]) for r in known}
        now = self._clock()
        agents: list[dict[str, Any]] = []
        for row in rows:
            if str(row["id"]) in have:
                report.unchanged(AGENTS)
                continue
            agent = persona_agent(
                row["id"],
                row["name"],
                row["is_active"],
                agent_id=self._new_id(),
                memory_root_id=self._new_id(),
                now=now,
            )
            if isinstance(agent, str):
                report.skipped(AGENTS, agent)
            else:
                report.created(AGENTS)
                agents.append(agent)
        if write and agents:
            yield ExecuteMany(_INSERT_AGENT, agents)


class _Conversations(Step):
    def __init__(self, prefix: str, clock: Clock) -> None:
        self.table = f"{prefix}conversations"
        self._personas = f"{prefix}personas"
        self._clock = clock

    def select(self, first: bool) -> str:
        where = "" if first else "WHERE c.id > :k0 "
        return f"""SELECT c.id, c.persona_id, c.title, c.created_at,
    CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS persona_in_source,
    p.name AS persona_name, p.is_active AS persona_active
FROM {self.table} c LEFT JOIN {self._personas} p ON p.id = c.persona_id
{where}ORDER BY c.id LIMIT :limit"""

    def key_of(self, row: Row) -> list[Any]:
        return [row["id"]]

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        personas = keys([r["persona_id"] for r in rows])
        known: list[Row] = (yield agents_of(personas)) if personas else []
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        ids = keys([r["id"] for r in rows])
        stored: list[Row] = (yield existing("conversations", ids)) if ids else []
        have = {str(r["id"]) for r in stored}
        now = self._clock()
        conversations: list[dict[str, Any]] = []
        for row in rows:
            persona = row["persona_id"]
            if str(row["id"]) in have:
                report.unchanged(CONVERSATIONS)
                continue
            if is_blank(persona):
                report.skipped(CONVERSATIONS, "no persona")
                continue
            persona = str(persona)
            if persona not in agent_of and not (
                row["persona_in_source"]
                and persona_accepted(persona, row["persona_name"], row["persona_active"])
            ):
                report.skipped(CONVERSATIONS, "unknown persona")
                continue
            # The agent's id when it is stored (a dry run may not have it: its persona's id,
            # an id too, stands in for the check).
            conversation = conversation_row(
                row["id"],
                row["title"],
                row["created_at"],
                agent_id=agent_of.get(persona, persona),
                now=now,
            )
            if isinstance(conversation, str):
                report.skipped(CONVERSATIONS, conversation)
                continue
            report.created(CONVERSATIONS)
            conversations.append({**conversation.to_params(), "persona_id": persona})
        if write and conversations:
            yield ExecuteMany(_INSERT_CONVERSATION, conversations)


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


class AgentScopeJob(Job):
    """Legacy personas, conversations, messages and memory vectors into agent-scoped rows."""

    name = "agent-scope"

    def __init__(
        self, source_prefix: str = "", *, clock: Clock = utc_now, new_id: IdFactory = new_id
    ) -> None:
        """``source_prefix``: the legacy tables' prefix. ``clock`` stamps the rows written
        (and the time a legacy row without one gets); ``new_id`` makes the agents' ids."""
        super().__init__(clock=clock)
        self.prefix = source_prefix
        self.new_id = new_id

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
            _Personas(p, self.clock, self.new_id),
            _Conversations(p, self.clock),
            MessagesStep(p, self.clock),
            _MessagesWithoutConversation(p),
            VectorsStep(p, self.clock),
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
