"""What a search returns: hits with their score, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from agentsdb.models.memory import Memory
from agentsdb.models.message import Message

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results. ``next`` is the cursor of the following page (pass it as
    ``after=``), or None when this page is the last.
    """

    items: list[T]
    next: str | None


@dataclass(frozen=True, slots=True)
class MemorySearchHit:
    """A memory that matched a search, with its ``score`` (higher is more relevant)."""

    memory: Memory
    score: float


@dataclass(frozen=True, slots=True)
class MessageSearchHit:
    """A message that matched a search, with its ``score`` (higher is more relevant)."""

    message: Message
    score: float


__all__ = ["MemorySearchHit", "MessageSearchHit", "Page"]
