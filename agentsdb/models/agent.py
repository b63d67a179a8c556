"""Agents: identity, model choices, and the default configuration their sessions inherit."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from agentsdb.ids import new_id
from agentsdb.models._record import (
    Handle,
    JsonList,
    JsonObject,
    Key,
    Name,
    NotNull,
    Patch,
    Text,
    Timestamp,
    now,
)
from agentsdb.models._timestamped import Timestamped

NonNegative = Annotated[int, Field(ge=0)]


class PermissionMode(StrEnum):
    """How much an agent may do without asking."""

    DEFAULT = "default"
    ACCEPT_EDITS = "acceptEdits"
    BYPASS_PERMISSIONS = "bypassPermissions"
    PLAN = "plan"


class PersonaSource(StrEnum):
    """Where an agent's persona comes from."""

    USER_GENERATED = "user_generated"
    SYNC_BLUESKY = "sync_bluesky"


class AgentStatus(StrEnum):
    """An agent's lifecycle state."""

    ACTIVE = "active"
    ARCHIVED = "archived"


_CONFIG_JSON = frozenset(
    {"built_in_tools", "mcps", "knowledges", "configuration", "accessible_paths"}
)


class Agent(Timestamped):
    """One agent. ``id`` is a UUIDv7 by default; a synced agent uses its Bluesky DID."""

    json_columns: ClassVar[frozenset[str]] = _CONFIG_JSON

    id: Key = Field(default_factory=new_id)
    type: Name = "custom"
    name: Name
    description: str | None = None
    avatar: str | None = None
    instructions: str | None = None
    model: Text
    plan_model: Text | None = None
    small_model: Text | None = None
    built_in_tools: JsonList = Field(default_factory=list)
    mcps: list[str] = Field(default_factory=list)
    knowledges: JsonList = Field(default_factory=list)
    configuration: JsonObject = Field(default_factory=dict)
    accessible_paths: list[str] = Field(default_factory=list)
    permission_mode: PermissionMode = PermissionMode.DEFAULT
    max_steps: NonNegative = 10
    handle: Handle | None = None
    display_name: str | None = None
    persona_source: PersonaSource = PersonaSource.USER_GENERATED
    owner_user_id: Key | None = None
    status: AgentStatus = AgentStatus.ACTIVE
    archived_at: Timestamp | None = None
    archive_reason: str | None = None
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)

    @model_validator(mode="after")
    def _archived_at_matches_status(self) -> Self:
        if (self.status is AgentStatus.ARCHIVED) != (self.archived_at is not None):
            raise ValueError("archived_at must be set exactly when status is 'archived'")
        return self


class AgentUpdate(Patch):
    """The fields of an agent to change; fields left out keep their value.

    Status is changed with ``AgentRepository.archive`` and ``restore``.
    """

    json_columns: ClassVar[frozenset[str]] = _CONFIG_JSON

    type: NotNull[Name] = None
    name: NotNull[Name] = None
    description: str | None = None
    avatar: str | None = None
    instructions: str | None = None
    model: NotNull[Text] = None
    plan_model: Text | None = None
    small_model: Text | None = None
    built_in_tools: NotNull[JsonList] = None
    mcps: NotNull[list[str]] = None
    knowledges: NotNull[JsonList] = None
    configuration: NotNull[JsonObject] = None
    accessible_paths: NotNull[list[str]] = None
    permission_mode: NotNull[PermissionMode] = None
    max_steps: NotNull[NonNegative] = None
    handle: Handle | None = None
    display_name: str | None = None
    persona_source: NotNull[PersonaSource] = None
    owner_user_id: Key | None = None


__all__ = [
    "Agent",
    "AgentStatus",
    "AgentUpdate",
    "NonNegative",
    "PermissionMode",
    "PersonaSource",
]
