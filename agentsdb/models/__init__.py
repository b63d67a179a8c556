"""Pydantic models of every entity, with ``from_row`` / ``to_params`` for the SQL layer.

Invalid input raises :class:`agentsdb.errors.ValidationError` (also a
:class:`pydantic.ValidationError`) naming the field, before any SQL runs; the text rules of
:mod:`agentsdb.rules` apply to every field.
Each entity has a model for the row (``Agent``) and, when it can be changed, one for a partial
update (``AgentUpdate``: only the fields given are changed).
"""

from __future__ import annotations

from agentsdb.models._record import (
    Email,
    Handle,
    JsonContent,
    JsonList,
    JsonObject,
    Key,
    Patch,
    Phone,
    Record,
    Text,
    Timestamp,
    format_ts,
    normalize_email,
    normalize_handle,
    now,
)
from agentsdb.models.agent import Agent, AgentStatus, AgentUpdate, PermissionMode, PersonaSource
from agentsdb.models.conversation import Conversation, ConversationUpdate
from agentsdb.models.embedding import Embedding, EmbeddingSource
from agentsdb.models.memory import Memory, MemoryAccess, MemoryUpdate, ReadMode
from agentsdb.models.message import Message, MessageRole, content_hash_of
from agentsdb.models.persona_bio import PersonaBio, PersonaBioSource
from agentsdb.models.profile_metadata import ProfileMetadata
from agentsdb.models.search import MemorySearchHit, MessageSearchHit, Page
from agentsdb.models.session import (
    OVERRIDE_COLUMNS,
    EffectiveSession,
    Session,
    SessionStatus,
    SessionUpdate,
)
from agentsdb.models.session_log import (
    LogRole,
    LogType,
    SessionLog,
    SessionLogNode,
    SessionLogUpdate,
)
from agentsdb.models.user import User, UserUpdate

__all__ = [
    "OVERRIDE_COLUMNS",
    "Agent",
    "AgentStatus",
    "AgentUpdate",
    "Conversation",
    "ConversationUpdate",
    "EffectiveSession",
    "Email",
    "Embedding",
    "EmbeddingSource",
    "Handle",
    "JsonContent",
    "JsonList",
    "JsonObject",
    "Key",
    "LogRole",
    "LogType",
    "Memory",
    "MemoryAccess",
    "MemorySearchHit",
    "MemoryUpdate",
    "Message",
    "MessageRole",
    "MessageSearchHit",
    "Page",
    "Patch",
    "PermissionMode",
    "PersonaBio",
    "PersonaBioSource",
    "PersonaSource",
    "Phone",
    "ProfileMetadata",
    "ReadMode",
    "Record",
    "Session",
    "SessionLog",
    "SessionLogNode",
    "SessionLogUpdate",
    "SessionStatus",
    "SessionUpdate",
    "Text",
    "Timestamp",
    "User",
    "UserUpdate",
    "content_hash_of",
    "format_ts",
    "normalize_email",
    "normalize_handle",
    "now",
]
