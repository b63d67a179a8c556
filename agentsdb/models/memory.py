"""Memories: named facts an agent keeps, globally or about one user."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentsdb.ids import new_id
from agentsdb.models._record import JsonObject, Key, Name, NotNull, Patch, Timestamp, now
from agentsdb.models._timestamped import Timestamped


class ReadMode(StrEnum):
    """How the agent reads a memory: in its system prompt, or through a tool call."""

    SYSTEM_PROMPT = "system_prompt"
    TOOL = "tool"


class MemoryAccess(StrEnum):
    """Whether the agent may change a memory."""

    READ = "read"
    WRITE = "write"


#: A memory's name: non-blank, at most 255 characters (it is part of a unique index).
MemoryName = Name


class Memory(Timestamped):
    """One memory. ``name`` is unique per agent and user; memories with no user share one scope."""

    json_columns: ClassVar[frozenset[str]] = frozenset({"metadata"})

    id: Key = Field(default_factory=new_id)
    name: MemoryName
    content: str
    description: str | None = None
    agent_id: Key
    user_id: Key | None = None
    session_id: Key | None = None
    read_mode: ReadMode = ReadMode.SYSTEM_PROMPT
    access: MemoryAccess = MemoryAccess.READ
    metadata: JsonObject = Field(default_factory=dict)
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


class MemoryUpdate(Patch):
    """The fields of a memory to change; fields left out keep their value."""

    json_columns: ClassVar[frozenset[str]] = frozenset({"metadata"})

    name: NotNull[MemoryName] = None
    content: NotNull[str] = None
    description: str | None = None
    session_id: Key | None = None
    read_mode: NotNull[ReadMode] = None
    access: NotNull[MemoryAccess] = None
    metadata: NotNull[JsonObject] = None


__all__ = ["Memory", "MemoryAccess", "MemoryName", "MemoryUpdate", "ReadMode"]
