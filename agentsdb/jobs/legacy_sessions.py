"""The legacy ``sessions`` table of job ``sessions-to-agents``: how each row is read and judged.

Pure functions, no database: a row becomes a :class:`LegacySession` (what to import) or a skip
reason, and a sort key that puts a group's rows together in the order they are imported. The
DDL is in ``docs/backfill.md`` ("Source tables"); the tests create the table exactly so.

A group is one (user, session type): one agent. Within a group, ended sessions come first,
oldest first, so the history is in the order the sessions happened; then the active ones,
newest first, so the newest becomes the agent's active session and the aggregate's rule (one
active session at a time) refuses the older ones, which are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from agentsdb.aggregate import AgentType
from agentsdb.db.base import Row
from agentsdb.jobs.schema import SourceTable
from agentsdb.rules.text import key_problem, text_problem
from agentsdb.rules.timestamps import legacy_timestamp_text, parse_legacy_timestamp

#: The columns the job reads.
COLUMNS: Final = (
    "id",
    "user_id",
    "session_type",
    "status",
    "conversation_id",
    "started_at",
    "ended_at",
    "summary",
    "end_reason",
)

#: Report tables: each source row is counted in one of these, the agents once per group.
AGENTS: Final = "agents"
HISTORY: Final = "session_history"
ACTIVE: Final = "active_sessions"

#: Legacy statuses of a session still running.
ACTIVE_STATUSES: Final = frozenset({"active"})
#: Legacy statuses of a session that ended well.
COMPLETED_STATUSES: Final = frozenset({"completed"})
#: Legacy statuses of a session ended early: imported as terminated, the status as the reason
#: when the row gives none.
TERMINATED_STATUSES: Final = frozenset({"terminated", "failed", "expired", "abandoned"})

_SHOWN = 40

#: The columns whose text the import stores (in events and read models), so each must be text
#: every backend stores (:func:`agentsdb.rules.text.text_problem`).
_STORED_TEXT: Final = ("id", "user_id", "conversation_id", "summary", "end_reason")


class MigrationOutcome(Enum):
    """What a legacy session becomes in its agent."""

    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class LegacySession:
    """A legacy row that can be imported, in the aggregate's terms."""

    id: str
    user_id: str
    agent_type: AgentType
    outcome: MigrationOutcome
    conversation_id: str
    started_at: datetime
    ended_at: datetime
    summary: str | None
    end_reason: str


def source_table(name: str) -> SourceTable:
    """The legacy table as the job's schema check sees it."""
    return SourceTable(name, COLUMNS)


def _text(value: object) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def normalized_type(value: object) -> str:
    """The group's session type: trimmed and lower-cased ('' for none)."""
    text = _text(value)
    return "" if text is None else text.lower()


def normalized_status(value: object) -> str:
    """A legacy status, trimmed and lower-cased ('' for none)."""
    text = _text(value)
    return "" if text is None else text.lower()


def parse_moment(value: object) -> datetime | None:
    """A legacy timestamp as an aware UTC datetime (naive means UTC); None when unreadable:
    the rule :func:`agentsdb.rules.timestamps.parse_legacy_timestamp`."""
    return parse_legacy_timestamp(value)


def report_table(row: Row) -> str:
    """The report table a row is counted in: active sessions or the history."""
    return ACTIVE if normalized_status(row["status"]) in ACTIVE_STATUSES else HISTORY


def group_skip(user_id: object, session_type: object) -> str | None:
    """Why a whole group cannot become an agent, or None."""
    if _text(user_id) is None:
        return "no user"
    kind = normalized_type(session_type)
    if kind not in AgentType.__members__.values():
        return "no session type" if not kind else f"unknown session type {_shown(kind)}"
    return None


def judge(row: Row) -> LegacySession | str:
    """A row as a session to import, or the reason it is skipped."""
    group = group_skip(row["user_id"], row["session_type"])
    if group is not None:
        return group
    for column in _STORED_TEXT:
        value = row[column]
        if isinstance(value, str) and text_problem(value) is not None:
            return f"invalid {column}"
    # Stored as ids: the owner, and the conversation (the legacy id when the row names none).
    ids = {"user_id": _text(row["user_id"]), "conversation_id": _text(row["conversation_id"])}
    ids["conversation_id"] = ids["conversation_id"] or str(row["id"])
    for column, value in ids.items():
        if value is not None and key_problem(value) is not None:
            return f"invalid {column}"
    status = normalized_status(row["status"])
    if status in ACTIVE_STATUSES:
        outcome = MigrationOutcome.ACTIVE
    elif status in COMPLETED_STATUSES:
        outcome = MigrationOutcome.COMPLETED
    elif status in TERMINATED_STATUSES:
        outcome = MigrationOutcome.TERMINATED
    else:
        return "no status" if not status else f"unknown status {_shown(status)}"
    started = parse_moment(row["started_at"])
    if started is None:
        return "invalid started_at"
    ended = parse_moment(row["ended_at"])
    # An ended session without a readable end ends when it started: never before it.
    ended = started if ended is None or ended < started else ended
    session_id = str(row["id"])
    return LegacySession(
        id=session_id,
        user_id=str(_text(row["user_id"])),
        agent_type=AgentType(normalized_type(row["session_type"])),
        outcome=outcome,
        # A session that names no conversation gets its own: the legacy session id.
        conversation_id=_text(row["conversation_id"]) or session_id,
        started_at=started,
        ended_at=ended,
        summary=_text(row["summary"]),
        end_reason=_text(row["end_reason"]) or status,
    )


def _micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def sort_key(row: Row) -> list[Any]:
    """The row's place in the import order: (user, type, ended before active, time, id).

    Ended sessions go oldest first, active ones newest first (a negated time). Rows of a group
    the job skips sort like any other; they are reported where they fall.
    """
    active = normalized_status(row["status"]) in ACTIVE_STATUSES
    moment = _micros(parse_moment(row["started_at"]))
    return [
        _text(row["user_id"]) or "",
        normalized_type(row["session_type"]),
        1 if active else 0,
        -moment if active else moment,
        str(row["id"]),
    ]


def json_ready(row: Row) -> dict[str, Any]:
    """The columns the job reads, as JSON values (a timestamp column becomes stored-format
    text, naive meaning UTC)."""
    record: dict[str, Any] = {}
    for column in COLUMNS:
        value = row[column]
        record[column] = legacy_timestamp_text(value, "") if isinstance(value, datetime) else value
    return record


__all__ = [
    "ACTIVE",
    "ACTIVE_STATUSES",
    "AGENTS",
    "COLUMNS",
    "COMPLETED_STATUSES",
    "HISTORY",
    "TERMINATED_STATUSES",
    "LegacySession",
    "MigrationOutcome",
    "group_skip",
    "json_ready",
    "judge",
    "normalized_status",
    "normalized_type",
    "parse_moment",
    "report_table",
    "sort_key",
    "source_table",
]
