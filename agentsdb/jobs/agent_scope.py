"""Job ``agent-scope``: persona-keyed conversations become agent-scoped.

One agent per persona (recording ``persona_id`` and a new ``memory_root_id``); each conversation
gets its persona's agent; each message gets ``from_agent_id`` and a content hash (SHA-256 of role
and normalized content), so duplicates within a conversation collapse to one; memory vectors move
to ``embeddings`` stamped with agent and conversation, tagged ``source = 'legacy'`` when their
conversation is unknown. The persona columns are kept beside the agent columns for the
dual-write window (see migration 010 for cutover).

The legacy ``conversations`` and ``messages`` tables share their names with agentsdb's own, so
the source is another database, or the legacy tables carry a prefix (``source_prefix``).

Every table is read in primary-key order, which needs no index but the key itself. Messages are
read by id, so the (conversation, hash) pairs already seen are kept in the job's scratch database
(:mod:`agentsdb.jobs.scratch`) to tell duplicates, in a dry run as in a real one; memory stays
flat and the source is never asked for a conversation's messages.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agentsdb.clock import utc_now_text
from agentsdb.db.base import Database, ExecuteMany, FetchAll, Program, Row
from agentsdb.ids import new_id
from agentsdb.jobs.bluesky_profiles import LEGACY_MODEL
from agentsdb.jobs.convert import content_hash, in_list, in_params, normalize_content, to_clock
from agentsdb.jobs.errors import JobError
from agentsdb.jobs.framework import Job, Step
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, table_columns
from agentsdb.jobs.scratch import Scratch
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, count, skipped_of, skips_of

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


_SEEN_DDL = (
    "CREATE TABLE seen (content_hash TEXT NOT NULL, conversation_id TEXT NOT NULL,"
    " PRIMARY KEY (content_hash, conversation_id)) WITHOUT ROWID",
)
_SEEN_PAGE_SIZE = 5000


def _pair(row: Row) -> tuple[str, str] | None:
    """(content hash, conversation) of a message that can be written, else None."""
    if row["role"] not in ROLES or row["content"] is None:
        return None
    return content_hash(row["role"], row["content"]), str(row["conversation_id"])


class _Messages(Step):
    """Messages with a conversation, in id order; the pairs seen so far in the scratch db."""

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}messages"
        self._conversations = f"{prefix}conversations"
        self._personas = f"{prefix}personas"
        self._seen: Scratch | None = None

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
        await self.close()
        if resume_key is not None and len(resume_key) != 1:
            raise JobError(
                "agent-scope: the checkpoint was written by an older version, which read "
                "messages in (conversation, id) order; finish that run with the version that "
                "started it"
            )
        self._seen = await Scratch.open(_SEEN_DDL)
        if resume_key is None:
            return
        # Resuming: the pairs of every message before the key, in one pass by id.
        last: Any = resume_key[0]
        after: Any = None
        while True:
            where = "" if after is None else "AND id > :after "
            page = await source.fetch_all(
                f"SELECT id, conversation_id, role, content FROM {self.table} "
                f"WHERE conversation_id IS NOT NULL AND id <= :last {where}"
                "ORDER BY id LIMIT :limit",
                {"last": last, "limit": _SEEN_PAGE_SIZE}
                if after is None
                else {"last": last, "after": after, "limit": _SEEN_PAGE_SIZE},
            )
            if not page:
                break
            pairs = [pair for pair in map(_pair, page) if pair is not None]
            if pairs:
                await self._seen.db.execute_many(
                    "INSERT OR IGNORE INTO seen VALUES (:h, :c)",
                    [{"h": h, "c": c} for h, c in pairs],
                )
            after = page[-1]["id"]

    async def fetch(self, source: Database, first: bool, params: dict[str, Any]) -> list[Row]:
        """A batch of messages, each with its content hash (``digest``, None when it cannot be
        written) and whether an earlier message of its conversation has it (``duplicate``)."""
        rows = await super().fetch(source, first, params)
        if not rows or self._seen is None:
            return rows
        pairs = [_pair(row) for row in rows]
        hashes = sorted({pair[0] for pair in pairs if pair is not None})
        earlier: set[tuple[str, str]] = set()
        if hashes:
            found = await self._seen.db.fetch_all(
                "SELECT content_hash, conversation_id FROM seen"
                f" WHERE content_hash IN ({in_list('h', len(hashes))})",
                in_params("h", hashes),
            )
            earlier = {(str(r["content_hash"]), str(r["conversation_id"])) for r in found}
        out: list[Row] = []
        new: list[dict[str, str]] = []
        for row, pair in zip(rows, pairs, strict=True):
            duplicate = pair is not None and pair in earlier
            if pair is not None and not duplicate:
                earlier.add(pair)
                new.append({"h": pair[0], "c": pair[1]})
            out.append({**row, "digest": None if pair is None else pair[0], "duplicate": duplicate})
        if new:
            await self._seen.db.execute_many("INSERT OR IGNORE INTO seen VALUES (:h, :c)", new)
        return out

    async def close(self) -> None:
        seen, self._seen = self._seen, None
        if seen is not None:
            await seen.close()

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        personas = [str(r[c]) for r in rows for c in ("persona_id", "conversation_persona") if r[c]]
        known = yield _agents_of(personas)
        agent_of = {str(r["persona_id"]): str(r["id"]) for r in known}
        conversation_ids = sorted({str(r["conversation_id"]) for r in rows})
        stored = yield _existing("conversations", conversation_ids)
        have = {str(r["id"]) for r in stored}
        hashes = {str(r["digest"]) for r in rows if r["digest"] is not None}
        existing: list[Row] = []
        if hashes:
            existing = yield FetchAll(
                "SELECT conversation_id, content_hash FROM messages"
                f" WHERE conversation_id IN ({in_list('c', len(conversation_ids))})"
                f" AND content_hash IN ({in_list('h', len(hashes))})",
                {**in_params("c", conversation_ids), **in_params("h", sorted(hashes))},
            )
        stored_hashes = {(str(r["conversation_id"]), str(r["content_hash"])) for r in existing}
        now = utc_now_text()
        messages: list[dict[str, Any]] = []
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
                continue
            if row["role"] not in ROLES:
                report.skipped(MESSAGES, "invalid role")
                continue
            if row["content"] is None:
                report.skipped(MESSAGES, "no content")
                continue
            digest = str(row["digest"])
            if row["duplicate"]:
                report.skipped(MESSAGES, "duplicate in conversation")
                continue
            if (conversation, digest) in stored_hashes:
                report.unchanged(MESSAGES)
                continue
            report.created(MESSAGES)
            messages.append(
                {
                    "conversation_id": conversation,
                    "from_agent_id": agent_of.get(row["persona_id"]) if row["persona_id"] else None,
                    "persona_id": row["persona_id"],
                    "role": row["role"],
                    "content": row["content"],
                    "content_hash": digest,
                    "created_at": to_clock(row["created_at"], now),
                }
            )
        if write and messages:
            yield ExecuteMany(
                """INSERT INTO messages (conversation_id, from_agent_id, persona_id, role, content,
    content_hash, tool_calls, created_at)
VALUES (:conversation_id, :from_agent_id, :persona_id, :role, :content,
    :content_hash, '[]', :created_at)
ON CONFLICT (conversation_id, content_hash) DO NOTHING""",
                messages,
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
                    "content_hash": hashlib.sha256(
                        normalize_content(content).encode("utf-8")
                    ).hexdigest(),
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
