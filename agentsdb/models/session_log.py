"""Session logs: what happened in a session, as a tree of entries."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from agentsdb.models._record import (
    JsonContent,
    JsonObject,
    Key,
    NotNull,
    Patch,
    Timestamp,
    encode_json,
    format_ts,
    now,
)
from agentsdb.models._timestamped import Timestamped


class LogRole(StrEnum):
    """Who produced a log entry."""

    USER = "user"
    AGENT = "agent"
    SYSTEM = "system"
    TOOL = "tool"


class LogType(StrEnum):
    """What kind of entry a log entry is."""

    MESSAGE = "message"
    THOUGHT = "thought"
    ACTION = "action"
    OBSERVATION = "observation"


_EMPTY_OBJECT = "{}"


class SessionLog(Timestamped):
    """One log entry. ``id`` is assigned by the database and increases with every append.

    ``parent_id``, when set, must be an entry of the same session (the database refuses others).
    """

    json_columns: ClassVar[frozenset[str]] = frozenset({"content", "metadata"})

    id: Annotated[int, Field(ge=1)] | None = None
    session_id: Key
    parent_id: Annotated[int, Field(ge=1)] | None = None
    role: LogRole
    type: LogType
    content: JsonContent
    metadata: JsonObject = Field(default_factory=dict)
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)

    def to_params(self) -> dict[str, Any]:
        """Insert parameters; written out by hand because appends are the hot path."""
        created_at = format_ts(self.created_at)
        updated_at = (
            created_at if self.updated_at == self.created_at else format_ts(self.updated_at)
        )
        metadata = self.metadata
        return {
            "id": self.id,
            "session_id": self.session_id,
            "parent_id": self.parent_id,
            "role": self.role.value,
            "type": self.type.value,
            "content": encode_json(self.content),
            "metadata": encode_json(metadata) if metadata else _EMPTY_OBJECT,
            "created_at": created_at,
            "updated_at": updated_at,
        }


class SessionLogUpdate(Patch):
    """The fields of a log entry to change; fields left out keep their value."""

    json_columns: ClassVar[frozenset[str]] = frozenset({"content", "metadata"})

    content: NotNull[JsonContent] = None
    metadata: NotNull[JsonObject] = None


class SessionLogNode(BaseModel):
    """A log entry with its children, in append order."""

    log: SessionLog
    children: list[SessionLogNode] = Field(default_factory=list)


__all__ = ["LogRole", "LogType", "SessionLog", "SessionLogNode", "SessionLogUpdate"]
