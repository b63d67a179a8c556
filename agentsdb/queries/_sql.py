"""Small helpers that build the query constants once, at import time."""

from __future__ import annotations

from collections.abc import Iterable


def column_list(names: Iterable[str]) -> str:
    """``a, b, c``"""
    return ", ".join(names)


def param_list(names: Iterable[str]) -> str:
    """``:a, :b, :c``"""
    return ", ".join(f":{name}" for name in names)


def patch_list(names: Iterable[str]) -> str:
    """A SET list that changes column ``c`` only when the parameter ``set_c`` is true.

    One fixed statement then serves every partial update, and the change is one statement: no
    read-merge-write that could lose a concurrent change to another column.
    """
    return ",\n    ".join(
        f"{name} = CASE WHEN :set_{name} THEN :{name} ELSE {name} END" for name in names
    )


def excluded_list(names: Iterable[str]) -> str:
    """The SET list of an upsert: each column takes the value that was to be inserted."""
    return ",\n    ".join(f"{name} = excluded.{name}" for name in names)


__all__ = ["column_list", "excluded_list", "param_list", "patch_list"]
