"""Helpers for the tests of job ``sessions-to-agents``: the legacy ``sessions`` table and rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

#: The legacy table exactly as docs/backfill.md gives it (SQLite and PostgreSQL alike).
SESSIONS_DDL = [
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        session_type TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        conversation_id TEXT,
        started_at TEXT,
        ended_at TEXT,
        summary TEXT,
        end_reason TEXT,
        message_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT,
        updated_at TEXT
    )""",
    "CREATE INDEX sessions_user_id ON sessions (user_id)",
]

INSERT = """INSERT INTO sessions (id, user_id, session_type, status, conversation_id,
    started_at, ended_at, summary, end_reason, message_count)
VALUES (:id, :user_id, :session_type, :status, :conversation_id,
    :started_at, :ended_at, :summary, :end_reason, :message_count)"""


def legacy(
    id: str,
    user_id: str | None,
    session_type: str | None,
    status: str,
    started_at: str | None,
    ended_at: str | None = None,
    *,
    conversation_id: str | None = None,
    no_conversation: bool = False,
    summary: str | None = None,
    end_reason: str | None = None,
) -> dict[str, Any]:
    """One legacy session row; its conversation is ``conv-<id>`` unless given or
    ``no_conversation``."""
    return {
        "id": id,
        "user_id": user_id,
        "session_type": session_type,
        "status": status,
        "conversation_id": None if no_conversation else conversation_id or f"conv-{id}",
        "started_at": started_at,
        "ended_at": ended_at,
        "summary": summary,
        "end_reason": end_reason,
        "message_count": 3,
    }


def make_sessions_source(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Create the legacy table in the SQLite file ``path`` and fill it."""
    with closing(sqlite3.connect(path)) as conn:
        for ddl in SESSIONS_DDL:
            conn.execute(ddl)
        conn.executemany(INSERT, list(rows))
        conn.commit()
