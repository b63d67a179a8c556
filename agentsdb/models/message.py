"""Messages of a conversation: every turn is stored; a client message id makes a retry safe."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from agentsdb.models._pydantic import set_derived
from agentsdb.models._record import JsonObject, Key, Record, Timestamp, now
from agentsdb.rules.content import message_content_hash


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
    """The default content hash: SHA-256 over the message's role, sender, content and tool calls
    (the rule :func:`agentsdb.rules.content.message_content_hash`)."""
    return message_content_hash(role.value, content, tool_calls, from_agent_id)


class Message(Record):
    """One message; immutable once made.

    Every appended message is stored, even one that says what an earlier one said ("yes",
    "yes"). ``client_message_id`` is the caller's idempotency key: appending a message whose
    conversation already has that key stores nothing new and returns the stored message (a
    retry), or raises :class:`~agentsdb.errors.IdempotencyKeyConflictError` when the stored one
    differs. It is an id (1 to 255 characters, no whitespace), unique within a conversation.
    ``content_hash`` defaults to :func:`content_hash_of`; it is for lookups and never decides
    whether a message is stored.
    """

    model_config = ConfigDict(frozen=True)

    json_columns: ClassVar[frozenset[str]] = frozenset({"tool_calls"})

    id: Annotated[int, Field(ge=1)] | None = None
    conversation_id: Key
    from_agent_id: Key | None = None
    role: MessageRole
    content: str
    content_hash: ContentHash = Field(default="", validate_default=False)
    client_message_id: Key | None = None
    tool_calls: list[JsonObject] = Field(default_factory=list)
    created_at: Timestamp = Field(default_factory=now)

    @model_validator(mode="after")
    def _default_hash(self) -> Self:
        if not self.content_hash:
            # The model is frozen; the hash is derived while it is being built.
            set_derived(
                self,
                "content_hash",
                content_hash_of(self.role, self.content, self.tool_calls, self.from_agent_id),
            )
        return self


__all__ = ["ContentHash", "Message", "MessageRole", "content_hash_of"]
