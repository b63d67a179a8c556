"""SQL for the ``conversations`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list, patch_list

_ALL = ("id", "agent_id", "user_id", "title", "created_at", "updated_at")
_COLUMNS = column_list(_ALL)


class ConversationQueries:
    """SQL for conversations. Listings are keyset pages by id (``:after`` '' for the first page)."""

    columns = _COLUMNS

    insert = f"INSERT INTO conversations ({_COLUMNS}) VALUES ({param_list(_ALL)})"

    update = f"""UPDATE conversations SET
    {patch_list(("title",))},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    get_by_id = f"SELECT {_COLUMNS} FROM conversations WHERE id = :id"

    #: An agent's conversations; ``:user_id`` NULL means with anyone.
    list_by_agent = f"""SELECT {_COLUMNS} FROM conversations
WHERE agent_id = :agent_id
    AND id > :after
    AND (CAST(:user_id AS TEXT) IS NULL OR user_id = :user_id)
ORDER BY id
LIMIT :limit"""

    list_by_user = f"""SELECT {_COLUMNS} FROM conversations
WHERE user_id = :user_id AND id > :after
ORDER BY id
LIMIT :limit"""

    delete = "DELETE FROM conversations WHERE id = :id"


__all__ = ["ConversationQueries"]
