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
    "client_message_id",
)
_COLUMNS = column_list(("id", *_INSERTED))


class MessageQueries:
    """SQL for messages. Every message is a row; a conversation holds each ``client_message_id``
    once (messages without one never collide). Ids only increase, so a conversation pages by id
    (``:after`` 0 for the first page).
    """

    columns = _COLUMNS

    #: Returns the new row's ``id``, or no row when the conversation already has a message with
    #: this ``client_message_id`` (never when it is NULL: NULLs do not collide).
    insert_if_absent = f"""INSERT INTO messages ({column_list(_INSERTED)})
VALUES ({param_list(_INSERTED)})
ON CONFLICT (conversation_id, client_message_id) DO NOTHING
RETURNING id"""

    get_by_id = f"SELECT {_COLUMNS} FROM messages WHERE id = :id"

    get_by_client_message_id = f"""SELECT {_COLUMNS} FROM messages
WHERE conversation_id = :conversation_id AND client_message_id = :client_message_id"""

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
