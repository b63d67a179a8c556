"""Sessions: one run of an agent, with configuration overrides that fall back to the agent's."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentsdb.ids import new_id
from agentsdb.models._record import (
    IndexedText,
    JsonList,
    JsonObject,
    Key,
    NotNull,
    Patch,
    Record,
    Text,
    Timestamp,
    now,
)
from agentsdb.models._timestamped import Timestamped
from agentsdb.models.agent import NonNegative, PermissionMode


class SessionStatus(StrEnum):
    """Where a session is in its run."""

    IDLE = "idle"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def terminal(self) -> bool:
        """True for the states a finished session ends in."""
        return self in _TERMINAL


_TERMINAL = frozenset({SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.STOPPED})

#: The configuration columns a session may override; NULL means "use the agent's value".
OVERRIDE_COLUMNS: tuple[str, ...] = (
    "instructions",
    "model",
    "plan_model",
    "small_model",
    "built_in_tools",
    "mcps",
    "knowledges",
    "configuration",
    "accessible_paths",
    "permission_mode",
    "max_steps",
)

_JSON = frozenset(
    {"sub_agent_ids", "built_in_tools", "mcps", "knowledges", "configuration", "accessible_paths"}
)


class Session(Timestamped):
    """One session of an agent.

    Every override field left as None inherits the agent's value when the session runs (see
    :class:`EffectiveSession`); None is stored as NULL, never replaced by a default.
    """

    json_columns: ClassVar[frozenset[str]] = _JSON

    id: Key = Field(default_factory=new_id)
    name: str | None = None
    main_agent_id: Key
    sub_agent_ids: list[Key] = Field(default_factory=list)
    user_goal: str | None = None
    status: SessionStatus = SessionStatus.IDLE
    external_session_id: IndexedText | None = None
    instructions: str | None = None
    model: Text | None = None
    plan_model: Text | None = None
    small_model: Text | None = None
    built_in_tools: JsonList | None = None
    mcps: list[str] | None = None
    knowledges: JsonList | None = None
    configuration: JsonObject | None = None
    accessible_paths: list[str] | None = None
    permission_mode: PermissionMode | None = None
    max_steps: NonNegative | None = None
    user_id: Key | None = None
    platform: Text | None = None
    finished_at: Timestamp | None = None
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


class SessionUpdate(Patch):
    """The fields of a session to change; fields left out keep their value.

    Setting an override to None makes the session inherit the agent's value again.
    """

    json_columns: ClassVar[frozenset[str]] = _JSON

    name: str | None = None
    sub_agent_ids: NotNull[list[Key]] = None
    user_goal: str | None = None
    status: NotNull[SessionStatus] = None
    external_session_id: IndexedText | None = None
    instructions: str | None = None
    model: Text | None = None
    plan_model: Text | None = None
    small_model: Text | None = None
    built_in_tools: JsonList | None = None
    mcps: list[str] | None = None
    knowledges: JsonList | None = None
    configuration: JsonObject | None = None
    accessible_paths: list[str] | None = None
    permission_mode: PermissionMode | None = None
    max_steps: NonNegative | None = None
    user_id: Key | None = None
    platform: Text | None = None


class EffectiveSession(Record):
    """A session with its effective configuration: each override, or the agent's value."""

    json_columns: ClassVar[frozenset[str]] = _JSON

    id: Key
    name: str | None
    main_agent_id: Key
    agent_name: str
    sub_agent_ids: list[Key]
    user_goal: str | None
    status: SessionStatus
    external_session_id: str | None
    instructions: str | None
    model: Text
    plan_model: str | None
    small_model: str | None
    built_in_tools: JsonList
    mcps: list[str]
    knowledges: JsonList
    configuration: JsonObject
    accessible_paths: list[str]
    permission_mode: PermissionMode
    max_steps: NonNegative
    user_id: Key | None
    platform: str | None
    finished_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


__all__ = [
    "OVERRIDE_COLUMNS",
    "EffectiveSession",
    "Session",
    "SessionStatus",
    "SessionUpdate",
]
