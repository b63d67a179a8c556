"""SQL for the read models of the Agent aggregate (migration 012).

Every projected row carries the stream ``version`` it reflects, and the upserts replace a row only
with one of a higher version: the inline projection (in the unit that appends the events) and the
catch-up projector may write the same rows in either order and leave the newest.
"""

from __future__ import annotations

from agentsdb.queries._sql import column_list, excluded_list, param_list

SUMMARY_COLUMNS: tuple[str, ...] = (
    "agent_id",
    "owner_user_id",
    "agent_type",
    "status",
    "name",
    "has_active_session",
    "active_session_id",
    "is_suspended",
    "total_sessions",
    "total_interactions",
    "successful_completions",
    "assignments",
    "created_at",
    "updated_at",
    "last_interaction_at",
    "archived_at",
    "version",
)
SESSION_COLUMNS: tuple[str, ...] = (
    "agent_id",
    "session_id",
    "seq",
    "conversation_id",
    "status",
    "started_at",
    "ended_at",
    "summary",
    "end_reason",
    "interactions",
    "version",
)
USER_COLUMNS: tuple[str, ...] = ("user_id", "agent_id", "role", "version")

_SUMMARY = column_list(SUMMARY_COLUMNS)
_SESSION = column_list(SESSION_COLUMNS)
_SUMMARY_OF_S = column_list(f"s.{name}" for name in SUMMARY_COLUMNS)


class AgentReadModelQueries:
    """SQL for ``agent_summaries``, ``agent_session_history`` and ``agent_users``.

    Listings are keyset pages: a user's agents in ``agent_id`` order after ``:after`` ('' for the
    first page); an agent's sessions newest first, ``seq`` below ``:before`` (NULL for the first
    page).
    """

    upsert_summary = f"""INSERT INTO agent_summaries ({_SUMMARY})
VALUES ({param_list(SUMMARY_COLUMNS)})
ON CONFLICT (agent_id) DO UPDATE SET
    {excluded_list(SUMMARY_COLUMNS[1:])}
WHERE agent_summaries.version < excluded.version"""

    upsert_session = f"""INSERT INTO agent_session_history ({_SESSION})
VALUES ({param_list(SESSION_COLUMNS)})
ON CONFLICT (agent_id, session_id) DO UPDATE SET
    {excluded_list(SESSION_COLUMNS[2:])}
WHERE agent_session_history.version < excluded.version"""

    upsert_user = f"""INSERT INTO agent_users ({column_list(USER_COLUMNS)})
VALUES ({param_list(USER_COLUMNS)})
ON CONFLICT (user_id, agent_id) DO UPDATE SET
    {excluded_list(USER_COLUMNS[2:])}
WHERE agent_users.version < excluded.version"""

    #: Ends a session whose row an earlier batch wrote, from the events of the batch that ended
    #: it (the session is no longer in the agent's capped history).
    end_session = """UPDATE agent_session_history SET
    status = :status,
    ended_at = :ended_at,
    summary = :summary,
    end_reason = :end_reason,
    interactions = interactions + :added_interactions,
    version = :version
WHERE agent_id = :agent_id AND session_id = :session_id AND version < :version"""

    get_summary = f"SELECT {_SUMMARY} FROM agent_summaries WHERE agent_id = :agent_id"

    list_for_user = f"""SELECT {_SUMMARY_OF_S}, u.role AS user_role
FROM agent_users u JOIN agent_summaries s ON s.agent_id = u.agent_id
WHERE u.user_id = :user_id AND u.agent_id > :after
ORDER BY u.agent_id
LIMIT :limit"""

    active_session = f"""SELECT {column_list(f"h.{name}" for name in SESSION_COLUMNS)}
FROM agent_summaries s JOIN agent_session_history h
    ON h.agent_id = s.agent_id AND h.session_id = s.active_session_id
WHERE s.agent_id = :agent_id"""

    session_history = f"""SELECT {_SESSION} FROM agent_session_history
WHERE agent_id = :agent_id AND (CAST(:before AS BIGINT) IS NULL OR seq < :before)
ORDER BY seq DESC
LIMIT :limit"""

    get_session = f"""SELECT {_SESSION} FROM agent_session_history
WHERE agent_id = :agent_id AND session_id = :session_id"""

    delete_summary = "DELETE FROM agent_summaries WHERE agent_id = :agent_id"
    delete_sessions = "DELETE FROM agent_session_history WHERE agent_id = :agent_id"
    delete_users = "DELETE FROM agent_users WHERE agent_id = :agent_id"

    # A catch-up page may project an agent whose stream was erased after the page was read:
    # these run last in the page's unit and drop the rows again when the stream is gone.
    drop_summary_if_erased = """DELETE FROM agent_summaries WHERE agent_id = :agent_id
AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = :stream_id)"""
    drop_sessions_if_erased = """DELETE FROM agent_session_history WHERE agent_id = :agent_id
AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = :stream_id)"""
    drop_users_if_erased = """DELETE FROM agent_users WHERE agent_id = :agent_id
AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = :stream_id)"""

    truncate_summaries = "DELETE FROM agent_summaries"
    truncate_sessions = "DELETE FROM agent_session_history"
    truncate_users = "DELETE FROM agent_users"


__all__ = ["SESSION_COLUMNS", "SUMMARY_COLUMNS", "USER_COLUMNS", "AgentReadModelQueries"]
