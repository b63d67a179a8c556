"""Small conversions shared by the jobs: legacy timestamps (the rule is
:mod:`agentsdb.rules.timestamps`) and IN lists."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from agentsdb.rules.timestamps import legacy_timestamp_text


def to_clock(value: object, default: str) -> str:
    """A legacy timestamp in the stored format, else ``default``: the rule
    :func:`agentsdb.rules.timestamps.legacy_timestamp_text`."""
    return legacy_timestamp_text(value, default)


@cache
def in_list(prefix: str, n: int) -> str:
    """``:p0, :p1, ...`` for an IN list of ``n`` parameters."""
    return ", ".join(f":{prefix}{i}" for i in range(n))


def in_params(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of :func:`in_list`."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}


__all__ = ["in_list", "in_params", "to_clock"]
