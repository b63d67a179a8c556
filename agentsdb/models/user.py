"""Users of the platform: the people agents talk to and who own agents."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agentsdb.ids import new_id
from agentsdb.models._record import (
    Email,
    JsonObject,
    Key,
    NotNull,
    Patch,
    Phone,
    Timestamp,
    now,
)
from agentsdb.models._timestamped import Timestamped


class User(Timestamped):
    """One user. ``email`` is unique (stored in lower case); ``user_data`` is free JSON."""

    json_columns: ClassVar[frozenset[str]] = frozenset({"user_data"})

    id: Key = Field(default_factory=new_id)
    email: Email | None = None
    phone_number: Phone | None = None
    user_data: JsonObject = Field(default_factory=dict)
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


class UserUpdate(Patch):
    """The fields of a user to change; fields left out keep their value."""

    json_columns: ClassVar[frozenset[str]] = frozenset({"user_data"})

    email: Email | None = None
    phone_number: Phone | None = None
    user_data: NotNull[JsonObject] = None


__all__ = ["User", "UserUpdate"]
