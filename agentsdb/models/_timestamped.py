"""Base of the models whose table has ``created_at`` and ``updated_at``."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from agentsdb.models._record import Record, stamp_defaults


class Timestamped(Record):
    """A record with ``created_at`` and ``updated_at``: a new one gets one moment for both.

    Subclasses declare both fields last (so they print last), each defaulting to
    :func:`~agentsdb.models._record.now`.
    """

    @model_validator(mode="before")
    @classmethod
    def _one_moment_for_both(cls, data: Any) -> Any:
        return stamp_defaults(data)


__all__ = ["Timestamped"]
