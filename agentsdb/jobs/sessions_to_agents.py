"""Job ``sessions-to-agents``: legacy sessions become event-sourced agents.

Legacy sessions are grouped by (user, session type); each group becomes one agent instance
(:class:`~agentsdb.aggregate.AgentAggregate`) owned by the user, of that :class:`AgentType`.
Its ended sessions (completed, or terminated / failed / expired / abandoned) go into the
agent's history in the order they started, and its newest active session becomes the agent's
active session. Everything is written through the aggregate's commands and
:class:`~agentsdb.aggregate.store.AgentStore`, so the domain's rules apply (one active session
at a time, valid ids, nothing on an archived agent); a row a rule refuses is skipped and
reported with the rule.

Ids are derived, never drawn: the agent's from (user, type), a session's from its legacy id,
and every event's from its legacy session and its place among that session's events. A rerun
finds a session's first event already stored and counts the row unchanged; a resumed run
carries on after the last committed chunk.

The source is read in the import order by an external merge sort over the table's primary key
(:mod:`agentsdb.jobs.sorted_read`): O(N log N) whatever else the source is indexed by. A batch
is a chunk of one group's rows (at most ``batch_size``; rows of skipped groups may share one),
so its events, the agent's read-model rows and the job's checkpoint commit in one append.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import MappingProxyType
from typing import Any, Final

from agentsdb.aggregate import (
    AgentAggregate,
    AgentArchivedError,
    DomainError,
    InvalidCommandError,
    SessionAlreadyActiveError,
)
from agentsdb.aggregate.store import AgentStore
from agentsdb.db.base import Database, Row
from agentsdb.jobs.convert import in_params
from agentsdb.jobs.errors import JobError, TargetNotMigratedError
from agentsdb.jobs.framework import DEFAULT_BATCH_SIZE, Job, Step, batch_checkpoint
from agentsdb.jobs.legacy_sessions import (
    ACTIVE,
    AGENTS,
    HISTORY,
    LegacySession,
    MigrationOutcome,
    group_skip,
    json_ready,
    judge,
    report_table,
    sort_key,
    source_table,
)
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, table_columns
from agentsdb.jobs.session_ids import ImportIds, agent_id_for, event_id_for, session_id_for
from agentsdb.jobs.sessions_validation import validate_sessions
from agentsdb.jobs.sorted_read import DEFAULT_RUN_SIZE, Keyed, sorted_records
from agentsdb.jobs.validation import ValidationReport
from agentsdb.queries.events import EventQueries
from agentsdb.rules.timestamps import Clock, utc_now

#: Stamped on every imported event, so an import can be told from live use.
_METADATA: Final = MappingProxyType({"imported_by": "sessions-to-agents"})

_KEY = "sort_key"
_LAST = "last_of_group"


def refusal(error: DomainError) -> str:
    """A skip reason naming the aggregate's rule that refused a row."""
    if isinstance(error, SessionAlreadyActiveError):
        return "refused: another session is active (one at a time)"
    if isinstance(error, AgentArchivedError):
        return "refused: the agent is archived"
    if isinstance(error, InvalidCommandError):
        fields = sorted({problem.split(":", 1)[0] for problem in error.problems})
        return f"refused: invalid {', '.join(fields)}"
    return f"refused: {type(error).__name__}"


def _group_of(row: Row) -> tuple[str, str]:
    key = row[_KEY]
    return str(key[0]), str(key[1])


def page_sql(table: str, first: bool) -> str:
    """``:limit`` rows of the legacy table in primary-key order, after ``:k0`` unless ``first``:
    one index range per page, whatever other indexes the table has."""
    where = "" if first else "WHERE id > :k0 "
    columns = ", ".join(source_table(table).columns)
    return f"SELECT {columns} FROM {table} {where}ORDER BY id LIMIT :limit"


def _record_of(row: Row) -> Keyed:
    return sort_key(row), json_ready(row)


def import_order(
    source: Database, table: str, after: list[Any] | None, page_size: int, run_size: int
) -> AsyncGenerator[Keyed, None]:
    """Every row of the legacy table as (sort key, JSON-ready record), in import order, after
    the key ``after``: an external merge sort of primary-key pages (O(N log N))."""
    return sorted_records(
        source,
        lambda first: page_sql(table, first),
        "id",
        _record_of,
        after=after,
        page_size=page_size,
        run_size=run_size,
    )


class _Sessions(Step):
    """The one pass: legacy sessions in import order, one group's chunk per batch."""

    name = "sessions"

    def __init__(self, table: str, target: Database, run_size: int, clock: Clock) -> None:
        self.table = table
        self._run_size = run_size
        self._ids = ImportIds()
        self._store = AgentStore(target, clock=clock, new_id=self._ids)
        self._group: tuple[str, str] | None = None
        self._agent: AgentAggregate | None = None
        # Whether the group's agent is in the store (a run before this one, or before a kill).
        self._stored = False
        # Resumed inside a group: its agent must be loaded before its next row.
        self._reload = False

    # --- reading -----------------------------------------------------------------------------

    def select(self, first: bool) -> str:
        """A page of the table in primary-key order (what the sort reads)."""
        return page_sql(self.table, first)

    def key_of(self, row: Row) -> list[Any]:
        return list(row[_KEY])

    async def start(self, source: Database, resume_key: list[Any] | None) -> None:
        # Resuming inside a group: it was counted; its agent is loaded again before its next row.
        self._group = None if resume_key is None else (str(resume_key[0]), str(resume_key[1]))
        self._agent = None
        self._stored = self._reload = resume_key is not None

    async def batches(
        self, source: Database, after: list[Any] | None, size: int
    ) -> AsyncGenerator[list[Row], None]:
        chunk: list[Row] = []
        chunk_group: tuple[str, str] | None = None
        async for key, record in self.records(source, after, size):
            group = (str(key[0]), str(key[1]))
            record[_KEY], record[_LAST] = key, False
            if chunk and group != chunk_group:
                chunk[-1][_LAST] = True
                # Rows of skipped groups write nothing, so they may share a chunk.
                if len(chunk) >= size or not (_skipped(chunk_group) and _skipped(group)):
                    yield chunk
                    chunk = []
            elif len(chunk) >= size:
                yield chunk
                chunk = []
            chunk_group = group
            chunk.append(record)
        if chunk:
            chunk[-1][_LAST] = True
            yield chunk

    def records(
        self, source: Database, after: list[Any] | None, size: int
    ) -> AsyncGenerator[Keyed, None]:
        """Every row as (sort key, JSON-ready record), in import order, after ``after``."""
        return import_order(source, self.table, after, size, self._run_size)

    # --- deciding and writing ----------------------------------------------------------------

    async def run_batch(
        self,
        target: Database,
        rows: list[Row],
        total: JobReport,
        job: str,
        *,
        write: bool,
        now: str,
    ) -> JobReport:
        batch = JobReport(job=job, rows_read=len(rows))
        first = _group_of(rows[0])
        if first != self._group or self._reload:
            await self._open(first, batch, counted=first == self._group)
        # Only an agent stored before this run can hold sessions of these rows (a chunk with
        # rows of several groups holds skipped groups only).
        imported = await self._imported(target, rows) if self._stored else set()
        for row in rows:
            group = _group_of(row)
            if group != self._group:
                await self._open(group, batch, counted=False)
            self._decide(row, batch, imported)
            at_end = row[_LAST] and self._agent is None and not self._stored
            if at_end and group_skip(*group) is None:
                batch.skipped(AGENTS, "no session to import")
        agent = self._agent
        if agent is None or not agent.pending_events:
            # Nothing to write, so no unit of its own: the next checkpoint covers these rows
            # (its report holds their counts), and a run killed before it reads them again.
            return batch
        if not write:
            # Nothing is stored: the carried agent goes on as if it had been.
            agent.mark_saved(agent.version + len(agent.pending_events))
            return batch
        checkpoint = batch_checkpoint(self, rows, total, batch, job, now)
        await self._store.save(agent, metadata=_METADATA, with_steps=[checkpoint])
        return batch

    async def _open(self, group: tuple[str, str], report: JobReport, *, counted: bool) -> None:
        """Start a group: load its agent when it exists, and count it unless ``counted``
        (resumed inside the group, whose agent the interrupted run counted)."""
        self._group, self._agent, self._stored, self._reload = group, None, False, False
        skip = group_skip(*group)
        if skip is not None:
            if not counted:
                report.skipped(AGENTS, skip)
            return
        self._agent = await self._store.find(agent_id_for(*group))
        self._stored = self._agent is not None
        if self._stored and not counted:
            report.unchanged(AGENTS)

    async def _imported(self, target: Database, rows: list[Row]) -> set[str]:
        """The first event ids of the chunk's sessions (one group's) already stored."""
        agent_id = agent_id_for(*_group_of(rows[0]))
        wanted = sorted({event_id_for(agent_id, str(row["id"]), 0) for row in rows})
        found = await target.fetch_all(
            EventQueries.by_event_ids(len(wanted)), in_params("id_", wanted)
        )
        return {str(r["event_id"]) for r in found}

    def _decide(self, row: Row, report: JobReport, imported: set[str]) -> None:
        table = report_table(row)
        session = judge(row)
        if isinstance(session, str):
            report.skipped(table, session)
            return
        agent_id = agent_id_for(session.user_id, session.agent_type.value)
        stored = event_id_for(agent_id, session.id, 0) in imported
        try:
            if stored:
                if self._end(session):
                    report.updated(table)
                else:
                    report.unchanged(table)
                return
            if self._agent is None:
                self._agent = self._create(agent_id, session)
                report.created(AGENTS)
            self._import(self._agent, session)
        except DomainError as error:
            report.skipped(table, refusal(error))
            return
        report.created(table)

    def _create(self, agent_id: str, first: LegacySession) -> AgentAggregate:
        self._ids.begin(agent_id, None)
        return AgentAggregate.create(
            owner_user_id=first.user_id,
            agent_type=first.agent_type,
            name=first.agent_type.value,
            agent_id=agent_id,
            now=first.started_at,
            id_factory=self._ids,
        )

    def _import(self, agent: AgentAggregate, session: LegacySession) -> None:
        self._ids.begin(agent.id, session.id)
        agent.start_session(
            session.conversation_id,
            session_id=session_id_for(agent.id, session.id),
            now=session.started_at,
        )
        self._end_active(agent, session)

    def _end(self, session: LegacySession) -> bool:
        """End a session an earlier run imported as active and the legacy table now has
        ended; True when it did. Its end gets the id it would have had imported in one go."""
        agent = self._agent
        if agent is None or session.outcome is MigrationOutcome.ACTIVE:
            return False
        active = agent.state.active_session
        if active is None or active.session_id != session_id_for(agent.id, session.id):
            return False
        self._ids.begin(agent.id, session.id, 1)
        self._end_active(agent, session)
        return True

    @staticmethod
    def _end_active(agent: AgentAggregate, session: LegacySession) -> None:
        if session.outcome is MigrationOutcome.COMPLETED:
            agent.complete_session(session.summary, now=session.ended_at)
        elif session.outcome is MigrationOutcome.TERMINATED:
            agent.terminate_session(session.end_reason, now=session.ended_at)


def _skipped(group: tuple[str, str] | None) -> bool:
    return group is not None and group_skip(*group) is not None


class SessionsToAgentsJob(Job):
    """Legacy sessions grouped by (user, session type) into one event-sourced agent each."""

    name = "sessions-to-agents"

    def __init__(
        self, source_prefix: str = "", *, run_size: int = DEFAULT_RUN_SIZE, clock: Clock = utc_now
    ) -> None:
        """``source_prefix``: the legacy table is ``<prefix>sessions``. ``run_size``: rows
        sorted in memory before a run is spilled to a temporary file. ``clock`` tells the time
        stored as the events' ``recorded_at`` and the checkpoints' times (the events' own
        times come from the legacy rows)."""
        if isinstance(run_size, bool) or not isinstance(run_size, int) or run_size < 1:
            raise ValueError(f"run_size must be a positive integer, got {run_size!r}")
        super().__init__(clock=clock)
        self.prefix = source_prefix
        self.run_size = run_size

    @property
    def table(self) -> str:
        """The legacy table's name."""
        return f"{self.prefix}sessions"

    def source_tables(self) -> tuple[SourceTable, ...]:
        return (source_table(self.table),)

    async def check(self, source: Database, target: Database) -> None:
        if not self.prefix and (source is target or source.url == target.url):
            raise JobError(
                f"{self.name}: the legacy sessions table shares its name with agentsdb's own; "
                "give the legacy database with --source (or, from Python, the legacy table's "
                "prefix as source_prefix)"
            )
        await super().check(source, target)
        # Pages go by id, so a row without one would never be read (SQLite lets a TEXT
        # primary key hold NULL).
        row = await source.fetch_one(f"SELECT COUNT(*) AS n FROM {self.table} WHERE id IS NULL")
        if row is not None and int(row["n"]):
            raise JobError(
                f"{self.name}: {row['n']} rows of {self.table} have no id; give every row an "
                "id (the job reads the table in id order); nothing was written"
            )
        # The event store (011) and the agents' read models (012), which the job writes.
        for table in ("events", "agent_session_history"):
            if not await table_columns(target, table):
                raise TargetNotMigratedError(self.name, target.url)

    def steps(self, source: Database, target: Database) -> list[Step]:
        return [_Sessions(self.table, target, self.run_size, self.clock)]

    def summary(self, report: JobReport) -> str:
        return (
            f"Migrated {report.table(HISTORY).created + report.table(ACTIVE).created} sessions "
            f"into {report.table(AGENTS).created} new agents."
        )

    async def validate(
        self, source: Database, target: Database, report: JobReport | None
    ) -> ValidationReport:
        return await validate_sessions(self.name, self.records(source), target, report)

    def records(
        self,
        source: Database,
        after: list[Any] | None = None,
        page_size: int = DEFAULT_BATCH_SIZE,
    ) -> AsyncGenerator[Keyed, None]:
        """The legacy rows as (sort key, record) in the order the job imports them, after the
        sort key ``after``: each group's ended sessions oldest first, then its active ones
        newest first."""
        return import_order(source, self.table, after, page_size, self.run_size)


__all__ = ["SessionsToAgentsJob", "refusal"]
