"""Messages of a conversation, stored once per content hash."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from agentsdb.models._record import JsonObject, Key, Record, Timestamp, encode_json, now


class MessageRole(StrEnum):
    """Who a message is from, in chat terms."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


ContentHash = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$")]


def content_hash_of(
    role: MessageRole, content: str, tool_calls: list[JsonObject], from_agent_id: str | None
) -> str:
    """The default content hash: SHA-256 over the message's role, sender, content and tool calls."""
    canonical = encode_json([role.value, from_agent_id, content, tool_calls])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Message(Record):
    """One message; immutable once made.

    Appending a message whose ``content_hash`` the conversation already has stores nothing new.
    The hash defaults to :func:`content_hash_of`; pass your own (for instance a hash of a client
    message id) when two identical messages must both be kept.
    """

    model_config = ConfigDict(frozen=True)

    json_columns: ClassVar[frozenset[str]] = frozenset({"tool_calls"})

    id: Annotated[int, Field(ge=1)] | None = None
    conversation_id: Key
    from_agent_id: Key | None = None
    role: MessageRole
    content: str
    content_hash: ContentHash = Field(default="", validate_default=False)
    tool_calls: list[JsonObject] = Field(default_factory=list)
    created_at: Timestamp = Field(default_factory=now)

    @model_validator(mode="after")
    def _default_hash(self) -> Self:
        if not self.content_hash:
            # The model is frozen; the hash is derived while it is being built.
            self.__dict__["content_hash"] = content_hash_of(
                self.role, self.content, self.tool_calls, self.from_agent_id
            )
        return self


__all__ = ["ContentHash", "Message", "MessageRole", "content_hash_of"]
