"""SQL for the ``memories`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list, patch_list

_ALL = (
    "id",
    "name",
    "content",
    "description",
    "agent_id",
    "user_id",
    "session_id",
    "read_mode",
    "access",
    "metadata",
    "created_at",
    "updated_at",
)
_CHANGEABLE = ("name", "content", "description", "session_id", "read_mode", "access", "metadata")
_COLUMNS = column_list(_ALL)


def _page(where: str) -> str:
    return f"""SELECT {_COLUMNS} FROM memories
WHERE {where}
    AND id > :after
    AND (CAST(:read_mode AS TEXT) IS NULL OR read_mode = :read_mode)
ORDER BY id
LIMIT :limit"""


class MemoryQueries:
    """SQL for memories. A name is unique per agent and user; a NULL user is one shared scope,
    which is why user comparisons go through ``COALESCE(user_id, '')`` (the unique index's key).

    The listings are keyset pages by id (``:after`` '' for the first page) with an optional
    ``:read_mode`` filter (NULL for any).
    """

    columns = _COLUMNS

    insert = f"INSERT INTO memories ({_COLUMNS}) VALUES ({param_list(_ALL)})"

    update = f"""UPDATE memories SET
    {patch_list(_CHANGEABLE)},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    get_by_id = f"SELECT {_COLUMNS} FROM memories WHERE id = :id"

    #: ``:user_id`` NULL finds the agent's shared memory of that name.
    get_by_name = f"""SELECT {_COLUMNS} FROM memories
WHERE name = :name
    AND agent_id = :agent_id
    AND COALESCE(user_id, '') = COALESCE(:user_id, '')"""

    #: An agent's memories; ``:user_id`` NULL means any user (and shared ones).
    list_by_agent = _page(
        "agent_id = :agent_id AND (CAST(:user_id AS TEXT) IS NULL OR user_id = :user_id)"
    )

    #: A user's memories, across agents.
    list_by_user = _page("user_id = :user_id")

    #: What an agent may recall with one user: that user's memories and the shared ones.
    list_visible = _page("agent_id = :agent_id AND (user_id = :user_id OR user_id IS NULL)")

    delete = "DELETE FROM memories WHERE id = :id"

    count_by_agent = "SELECT COUNT(*) AS total FROM memories WHERE agent_id = :agent_id"


__all__ = ["MemoryQueries"]
