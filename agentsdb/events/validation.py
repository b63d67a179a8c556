"""Checks on everything a caller passes to the event store, run before any SQL.

Each refusal is an :class:`~agentsdb.errors.InvalidEventError` naming the argument, the same on
every backend; a message quotes at most a short prefix of the value. JSON documents are checked
to round-trip exactly (string keys, lists rather than tuples, finite numbers, text that UTF-8 can
encode), because an idempotent retry compares what it sends with what was stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from agentsdb.errors import InvalidEventError
from agentsdb.events.types import ExpectedVersion, StreamState
from agentsdb.models._record import encode_json

#: The longest stream id, event id or event type accepted (characters): they are indexed keys.
MAX_NAME_LENGTH = 256
#: The deepest nesting of a JSON document accepted.
MAX_DEPTH = 64
#: The most events a read returns at once.
MAX_READ_LIMIT = 10_000

_PREFIX = 40
_MAX_PATH = 80


def shown(value: object) -> str:
    """A short prefix of ``value`` for a message."""
    text = repr(value)
    return text if len(text) <= _PREFIX else f"{text[: _PREFIX - 3]}..."


def check_name(argument: str, value: object) -> str:
    """A stream id, event id or type: a non-empty str of printable, storable characters."""
    if not isinstance(value, str):
        raise InvalidEventError(argument, f"must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidEventError(argument, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidEventError(
            argument, f"is {len(value)} characters long; at most {MAX_NAME_LENGTH} ({shown(value)})"
        )
    if "\x00" in value:
        raise InvalidEventError(argument, f"contains a NUL character ({shown(value)})")
    if not value.isascii():  # a flag CPython keeps on every str: most names need no encoding
        _check_utf8(argument, value)
    return value


def _check_utf8(argument: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidEventError(
            argument,
            f"contains a lone surrogate {text[error.start]!r}, which cannot be stored "
            f"(near {shown(text[max(0, error.start - 10) : error.start + 10])})",
        ) from None


def check_positive(argument: str, value: object) -> int:
    """An integer >= 1 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(argument, f"must be an int, got {type(value).__name__}")
    if value < 1:
        raise InvalidEventError(argument, f"must be at least 1, got {value}")
    return value


def check_position(argument: str, value: object) -> int:
    """A position or version to read after: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(argument, f"must be an int, got {type(value).__name__}")
    if value < 0:
        raise InvalidEventError(argument, f"must not be negative, got {value}")
    return value


def check_limit(value: object) -> int:
    """A page size from 1 to MAX_READ_LIMIT."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_READ_LIMIT:
        raise InvalidEventError(
            "limit", f"must be an int from 1 to {MAX_READ_LIMIT}, got {shown(value)}"
        )
    return value


def check_expected(value: object) -> ExpectedVersion:
    """An expected version: a StreamState or an integer >= 0."""
    if isinstance(value, StreamState):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(
            "expected_version",
            f"must be NO_STREAM, ANY, STREAM_EXISTS or an int, got {shown(value)}",
        )
    if value < 0:
        raise InvalidEventError("expected_version", f"must not be negative, got {value}")
    return value


def json_text(argument: str, value: object) -> str:
    """``value`` (a mapping) as compact JSON text, after checking it round-trips exactly."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InvalidEventError(argument, f"must be a mapping, got {type(value).__name__}")
    if not value:
        return "{}"  # most events' metadata: nothing to check or encode
    if not _storable(value, 0):
        _check_value(argument, value, 0)  # raises, naming the path of the first bad value
    text = encode_json(value if isinstance(value, dict) else dict(value))
    if not text.isascii():
        _check_utf8(argument, text)
    return text


def _child(path: str, step: str) -> str:
    """The path of a nested value, kept short enough for a message."""
    if path.endswith("..."):
        return path
    child = path + step
    return child if len(child) <= _MAX_PATH else child[: _MAX_PATH - 3] + "..."


def _storable(value: Any, depth: int) -> bool:
    """Whether :func:`_check_value` accepts ``value``: the same rules, without building the path
    of every value for a message that is only needed when one is refused."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float or isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str | int):
        return True
    if depth >= MAX_DEPTH:
        return False
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                return False
            # The common leaves here rather than in a call each.
            leaf = type(item)
            if leaf is str or leaf is int or leaf is bool or item is None:
                continue
            if not _storable(item, depth + 1):
                return False
        return True
    if kind is list:
        return all(_storable(item, depth + 1) for item in value)
    return False


def _check_value(path: str, value: Any, depth: int) -> None:
    # The common leaf types first: this runs over every value of every appended event.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float or (isinstance(value, float)):
        if not math.isfinite(value):
            raise InvalidEventError(path, f"{value!r} is not a JSON number")
        return
    if isinstance(value, str | int):  # enum members and other subclasses encode as their value
        return
    if depth >= MAX_DEPTH:
        raise InvalidEventError(path, f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidEventError(
                    path, f"has a key {shown(key)} of type {type(key).__name__}; keys must be str"
                )
            _check_value(_child(path, f".{key[:20]}"), item, depth + 1)
        return
    if kind is list:
        for index, item in enumerate(value):
            _check_value(_child(path, f"[{index}]"), item, depth + 1)
        return
    hint = "; use a list" if isinstance(value, tuple) else ""
    raise InvalidEventError(
        path, f"holds a {type(value).__name__}, which JSON does not store as it is{hint}"
    )


__all__ = [
    "MAX_DEPTH",
    "MAX_NAME_LENGTH",
    "MAX_READ_LIMIT",
    "check_expected",
    "check_limit",
    "check_name",
    "check_position",
    "check_positive",
    "json_text",
    "shown",
]
