"""Conversations: a chat between a user (or nobody) and an agent."""

from __future__ import annotations

from pydantic import Field

from agentsdb.ids import new_id
from agentsdb.models._record import Key, Patch, Timestamp, now
from agentsdb.models._timestamped import Timestamped


class Conversation(Timestamped):
    """One conversation of an agent, optionally with one user."""

    id: Key = Field(default_factory=new_id)
    agent_id: Key
    user_id: Key | None = None
    title: str | None = None
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)


class ConversationUpdate(Patch):
    """The fields of a conversation to change; fields left out keep their value."""

    title: str | None = None


__all__ = ["Conversation", "ConversationUpdate"]
