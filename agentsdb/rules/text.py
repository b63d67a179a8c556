"""Text every backend stores alike, and the longest values indexed columns take.

The rules, applied to every id, cursor, name, text field and every string inside a JSON value
before any SQL runs, so the same input is accepted or refused the same way on every backend:

* **No NUL character (U+0000).** PostgreSQL cannot store it in text or JSONB (SQLite can), so
  it is refused everywhere, in reads as in writes.
* **No lone surrogates** (U+D800 to U+DFFF on their own, as in ``"\\ud800"``). They are not
  Unicode text and cannot be encoded as UTF-8; every driver would fail on them differently.
* **Bounded lengths for indexed columns**, in characters: ids (keys) and cursors
  :data:`MAX_KEY_LENGTH`, names :data:`MAX_NAME_LENGTH`, handles :data:`MAX_HANDLE_LENGTH`,
  emails :data:`MAX_EMAIL_LENGTH`. At 4 bytes a character the longest stays far below
  PostgreSQL's B-tree entry limit (about 2,700 bytes); other text is not limited.

Refusals raise :class:`agentsdb.errors.ValidationError`, whose message quotes at most a short
prefix of the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from agentsdb.errors import ValidationError

E = TypeVar("E", bound=Enum)

#: The longest id (a UUID, a DID, an external key) and ``after=`` cursor.
MAX_KEY_LENGTH = 255
#: The longest name (agent name and type, memory name, external session id).
MAX_NAME_LENGTH = 255
#: The longest handle (the longest DNS name, as Bluesky handles are).
MAX_HANDLE_LENGTH = 253
#: The longest email address (RFC 5321's path limit, less the angle brackets).
MAX_EMAIL_LENGTH = 254

NUL_PROBLEM = "must not contain a NUL character (U+0000): PostgreSQL cannot store it"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text on every backend, or None when it can."""
    if "\x00" in value:
        return NUL_PROBLEM
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return (
                f"must be valid Unicode text: a lone surrogate U+{ord(value[error.start]):04X} "
                f"is at position {error.start}"
            )
    return None


def value_problem(value: object) -> str | None:
    """Why a field's value (text, or a JSON value with nested text) cannot be stored, or None.

    Object keys are text too. Values that hold no text (numbers, None, timestamps) pass.
    """
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = (text_problem(key) if isinstance(key, str) else None) or value_problem(item)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = value_problem(item)
            if problem is not None:
                return problem
    return None


def check_value(title: str, field: str, value: object) -> None:
    """Refuse a value :func:`value_problem` finds a problem in."""
    problem = value_problem(value)
    if problem is not None:
        raise ValidationError.refuse(title, field, value, problem)


def check_text(
    title: str,
    field: str,
    value: object,
    *,
    max_length: int | None = None,
    min_length: int = 0,
    no_whitespace: bool = False,
) -> str:
    """``value`` when it is storable text within the bounds given; ValidationError otherwise.

    ``title`` names the method or model (``"AgentRepository.get"``), ``field`` the argument.
    """
    if not isinstance(value, str):
        raise ValidationError.refuse(title, field, value, "must be text (a str)")
    problem = text_problem(value)
    if problem is None:
        if max_length is not None and len(value) > max_length:
            problem = f"must be at most {max_length} characters long, not {len(value)}"
        elif len(value) < min_length:
            problem = "must not be empty"
        elif no_whitespace and value.split() != [value]:
            problem = "must not contain whitespace"
    if problem is not None:
        raise ValidationError.refuse(title, field, value, problem)
    return value


#: :func:`key_problem` as a regular expression (length aside), for compiled validators such as
#: pydantic's: no NUL and no character ``str.isspace`` calls whitespace. Rust's ``\s``
#: (pydantic's regex) lacks U+001C to U+001F, which Python counts, so they are named; lone
#: surrogates never reach a Rust regex. ``tests/test_rules_ids.py`` checks every code point.
KEY_PATTERN = r"^[^\s\x00\x1c-\x1f]+$"


def key_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id (a key), or None when it can.

    An id is 1 to :data:`MAX_KEY_LENGTH` characters of storable text with no whitespace
    (Unicode whitespace included). The models' ``Key`` fields, the repositories' id arguments
    and the backfill jobs all check ids with this one rule.
    """
    problem = text_problem(value)
    if problem is not None:
        return problem
    if len(value) > MAX_KEY_LENGTH:
        return f"must be at most {MAX_KEY_LENGTH} characters long, not {len(value)}"
    if not value:
        return "must not be empty"
    if value.split() != [value]:
        return "must not contain whitespace"
    return None


def check_key(title: str, field: str, value: object) -> str:
    """An id (see :func:`key_problem`); ValidationError when ``value`` is not one."""
    if not isinstance(value, str):
        raise ValidationError.refuse(title, field, value, "must be text (a str)")
    problem = key_problem(value)
    if problem is not None:
        raise ValidationError.refuse(title, field, value, problem)
    return value


def check_optional_key(title: str, field: str, value: object) -> str | None:
    """An id, or None."""
    return None if value is None else check_key(title, field, value)


def check_cursor(title: str, field: str, value: object) -> str | None:
    """An ``after=`` cursor of a text-keyed listing: None, or text of at most a key's length.

    A cursor is a bound, not a row: any storable text sorts somewhere, so it need not be an id.
    """
    if value is None:
        return None
    return check_text(title, field, value, max_length=MAX_KEY_LENGTH)


def check_name(title: str, field: str, value: object) -> str:
    """A name looked up by an index: storable text of at most :data:`MAX_NAME_LENGTH`."""
    return check_text(title, field, value, max_length=MAX_NAME_LENGTH)


def check_choice(title: str, field: str, value: object, choices: type[E]) -> E:
    """``value`` as a member of the enum ``choices``; ValidationError naming the allowed values."""
    if isinstance(value, choices):
        return value
    try:
        return choices(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in choices)
        raise ValidationError.refuse(title, field, value, f"must be one of {allowed}") from None


#: The largest integer id: PostgreSQL's BIGINT (SQLite's INTEGER has the same range).
MAX_ROW_ID = 2**63 - 1


def check_row_id(title: str, field: str, value: object) -> int:
    """A database-assigned integer id (or integer cursor): an int from 0 to :data:`MAX_ROW_ID`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROW_ID:
        raise ValidationError.refuse(
            title, field, value, f"must be an integer from 0 to {MAX_ROW_ID}"
        )
    return value


__all__ = [
    "KEY_PATTERN",
    "MAX_EMAIL_LENGTH",
    "MAX_HANDLE_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_ROW_ID",
    "NUL_PROBLEM",
    "check_choice",
    "check_cursor",
    "check_key",
    "check_name",
    "check_optional_key",
    "check_row_id",
    "check_text",
    "check_value",
    "key_problem",
    "text_problem",
    "value_problem",
]
