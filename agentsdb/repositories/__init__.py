"""Async repositories, one per entity: models in, models out.

Each is constructed from a :class:`~agentsdb.db.base.Database`, and optionally the ``clock``
that stamps what it changes (``Repository(db, clock=...)``, default the models' clock). The
rules they share:

* ``get*`` returns None when the row is absent; ``update``/``delete`` of an absent row raise
  :class:`~agentsdb.errors.NotFoundError`.
* Constraint violations raise the library's :class:`~agentsdb.errors.IntegrityError`
  subclasses (``UniqueViolationError`` names the constraint); no error is swallowed.
* Updates are single statements changing only the fields given; ``updated_at`` moves on every
  update.
* Listings are keyset pages ordered by a unique key (ids), never OFFSET: pass the last id of a
  page as ``after`` to get the next.
"""

from __future__ import annotations

from agentsdb.repositories.agents import AgentRepository
from agentsdb.repositories.conversations import ConversationRepository
from agentsdb.repositories.embeddings import EmbeddingRepository
from agentsdb.repositories.memories import MemoryRepository
from agentsdb.repositories.messages import MessageRepository
from agentsdb.repositories.persona_bios import PersonaBioRepository
from agentsdb.repositories.profile_metadata import ProfileMetadataRepository
from agentsdb.repositories.session_logs import SessionLogRepository
from agentsdb.repositories.sessions import SessionRepository
from agentsdb.repositories.users import UserRepository

__all__ = [
    "AgentRepository",
    "ConversationRepository",
    "EmbeddingRepository",
    "MemoryRepository",
    "MessageRepository",
    "PersonaBioRepository",
    "ProfileMetadataRepository",
    "SessionLogRepository",
    "SessionRepository",
    "UserRepository",
]
