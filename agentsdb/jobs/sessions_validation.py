"""``--validate`` for job ``sessions-to-agents``: the legacy rows against the agents' read models.

The source is walked in the job's own order (the same external sort), a chunk at a time; each
chunk's agents and sessions are looked up in ``agent_summaries`` and ``agent_session_history``
by their derived ids (primary-key lookups). Parity per report table:

* ``agents``: every (user, session type) group has its agent, owned by the user, of that type
  (or its group was skipped);
* ``session_history``: every ended legacy session is a history row of its agent with a final
  status (or was skipped);
* ``active_sessions``: every active legacy session is its agent's active session (or was
  skipped, e.g. refused because a newer one holds the place).

And one check: users with sessions to import but no agent at all.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from agentsdb.db.base import Database, Row
from agentsdb.jobs.convert import in_list, in_params
from agentsdb.jobs.legacy_sessions import (
    ACTIVE,
    AGENTS,
    HISTORY,
    LegacySession,
    MigrationOutcome,
    group_skip,
    judge,
    report_table,
)
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.session_ids import agent_id_for, session_id_for
from agentsdb.jobs.sorted_read import Keyed
from agentsdb.jobs.validation import Orphans, Parity, ValidationReport, skipped_of, skips_of

#: Source rows looked up per round trip.
CHUNK = 500

_FINAL = ("completed", "terminated")


@dataclass
class _Tally:
    source: dict[str, int] = field(default_factory=lambda: {AGENTS: 0, HISTORY: 0, ACTIVE: 0})
    target: dict[str, int] = field(default_factory=lambda: {AGENTS: 0, HISTORY: 0, ACTIVE: 0})
    users_without_agent: int = 0
    group: tuple[str, str] | None = None
    user: str | None = None
    user_has_sessions: bool = False
    user_has_agent: bool = False

    def end_user(self) -> None:
        if self.user_has_sessions and not self.user_has_agent:
            self.users_without_agent += 1
        self.user_has_sessions = self.user_has_agent = False


async def _lookup(
    target: Database, sessions: list[tuple[LegacySession, str]]
) -> tuple[dict[str, Row], dict[str, str]]:
    """The chunk's agent summaries by agent id, and its history rows' statuses by session id."""
    agent_ids = sorted({agent_id for _, agent_id in sessions})
    if not agent_ids:
        return {}, {}
    summaries = await target.fetch_all(
        "SELECT agent_id, owner_user_id, agent_type, active_session_id FROM agent_summaries"
        f" WHERE agent_id IN ({in_list('a', len(agent_ids))})",
        in_params("a", agent_ids),
    )
    session_ids = sorted({session_id_for(agent_id, s.id) for s, agent_id in sessions})
    history = await target.fetch_all(
        "SELECT session_id, status FROM agent_session_history"
        f" WHERE agent_id IN ({in_list('a', len(agent_ids))})"
        f" AND session_id IN ({in_list('s', len(session_ids))})",
        {**in_params("a", agent_ids), **in_params("s", session_ids)},
    )
    return (
        {str(r["agent_id"]): r for r in summaries},
        {str(r["session_id"]): str(r["status"]) for r in history},
    )


async def _check_chunk(target: Database, chunk: list[Keyed], tally: _Tally) -> None:
    judged = [(key, record, judge(record)) for key, record in chunk]
    sessions = [
        (s, agent_id_for(s.user_id, s.agent_type.value))
        for _, _, s in judged
        if isinstance(s, LegacySession)
    ]
    summaries, history = await _lookup(target, sessions)
    for key, record, session in judged:
        group = (str(key[0]), str(key[1]))
        if group[0] != tally.user:
            tally.end_user()
            tally.user = group[0]
        summary = None
        if group_skip(*group) is None:
            summary = summaries.get(agent_id_for(*group))
            if summary is not None and (
                summary["owner_user_id"] != group[0] or summary["agent_type"] != group[1]
            ):
                summary = None
        if group != tally.group:
            tally.group = group
            tally.source[AGENTS] += 1
            tally.target[AGENTS] += summary is not None
        tally.user_has_agent = tally.user_has_agent or summary is not None
        table = report_table(record)
        tally.source[table] += 1
        if not isinstance(session, LegacySession):
            continue
        tally.user_has_sessions = True
        if summary is None:
            continue
        session_id = session_id_for(str(summary["agent_id"]), session.id)
        if session.outcome is MigrationOutcome.ACTIVE:
            tally.target[table] += summary["active_session_id"] == session_id
        else:
            tally.target[table] += history.get(session_id) in _FINAL


async def validate_sessions(
    job: str,
    records: AsyncGenerator[Keyed, None],
    target: Database,
    report: JobReport | None,
) -> ValidationReport:
    """Parity of agents, history and active sessions against the legacy rows (see above)."""
    tally = _Tally()
    chunk: list[Keyed] = []
    async for item in records:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            await _check_chunk(target, chunk, tally)
            chunk = []
    if chunk:
        await _check_chunk(target, chunk, tally)
    tally.end_user()
    result = ValidationReport(job=job, skips=skips_of(report))
    for table in (AGENTS, HISTORY, ACTIVE):
        result.parity.append(
            Parity(table, tally.source[table], tally.target[table], skipped_of(report, table))
        )
    result.orphans.append(Orphans("users with sessions but no agent", tally.users_without_agent))
    return result


__all__ = ["CHUNK", "validate_sessions"]
