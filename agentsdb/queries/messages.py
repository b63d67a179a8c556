"""SQL for the ``messages`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list

_INSERTED = (
    "conversation_id",
    "from_agent_id",
    "role",
    "content",
    "content_hash",
    "tool_calls",
    "created_at",
)
_COLUMNS = column_list(("id", *_INSERTED))


class MessageQueries:
    """SQL for messages. A conversation holds each content hash once; ids only increase, so a
    conversation pages by id (``:after`` 0 for the first page).
    """

    columns = _COLUMNS

    #: Returns the new row's ``id``, or no row when the conversation already has this hash.
    insert_if_absent = f"""INSERT INTO messages ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})
ON CONFLICT (conversation_id, content_hash) DO NOTHING
RETURNING id"""

    get_by_id = f"SELECT {_COLUMNS} FROM messages WHERE id = :id"

    get_by_content_hash = f"""SELECT {_COLUMNS} FROM messages
WHERE conversation_id = :conversation_id AND content_hash = :content_hash"""

    list_by_conversation = f"""SELECT {_COLUMNS} FROM messages
WHERE conversation_id = :conversation_id AND id > :after
ORDER BY id
LIMIT :limit"""

    #: Messages an agent sent, across conversations.
    list_by_agent = f"""SELECT {_COLUMNS} FROM messages
WHERE from_agent_id = :from_agent_id AND id > :after
ORDER BY id
LIMIT :limit"""

    count_by_conversation = (
        "SELECT COUNT(*) AS total FROM messages WHERE conversation_id = :conversation_id"
    )

    delete = "DELETE FROM messages WHERE id = :id"


__all__ = ["MessageQueries"]
