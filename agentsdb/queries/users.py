"""SQL for the ``users`` table."""

from __future__ import annotations

from agentsdb.queries._sql import column_list, param_list, patch_list

_ALL = ("id", "email", "phone_number", "user_data", "created_at", "updated_at")
_CHANGEABLE = ("email", "phone_number", "user_data")
_COLUMNS = column_list(_ALL)


class UserQueries:
    """SQL for ``users``. Emails are stored in lower case: look them up in lower case."""

    columns = _COLUMNS

    insert = f"INSERT INTO users ({_COLUMNS}) VALUES ({param_list(_ALL)})"

    update = f"""UPDATE users SET
    {patch_list(_CHANGEABLE)},
    updated_at = :updated_at
WHERE id = :id
RETURNING {_COLUMNS}"""

    get_by_id = f"SELECT {_COLUMNS} FROM users WHERE id = :id"

    get_by_email = f"SELECT {_COLUMNS} FROM users WHERE email = :email"

    #: A keyset page: ids after ``:after`` ('' for the first page).
    list = f"SELECT {_COLUMNS} FROM users WHERE id > :after ORDER BY id LIMIT :limit"

    delete = "DELETE FROM users WHERE id = :id"

    count = "SELECT COUNT(*) AS total FROM users"


__all__ = ["UserQueries"]
