"""Small conversions shared by the jobs: legacy timestamps and IN lists (content hashes are
:mod:`agentsdb.rules.content`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any


def to_clock(text: object, default: str) -> str:
    """A legacy ISO-8601 timestamp in the agentsdb format (naive means UTC), else ``default``."""
    if not isinstance(text, str) or not text.strip():
        return default
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    # The clock format, built directly: strftime is the slowest step of a large backfill.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


@cache
def in_list(prefix: str, n: int) -> str:
    """``:p0, :p1, ...`` for an IN list of ``n`` parameters."""
    return ", ".join(f":{prefix}{i}" for i in range(n))


def in_params(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of :func:`in_list`."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}


__all__ = ["in_list", "in_params", "to_clock"]
