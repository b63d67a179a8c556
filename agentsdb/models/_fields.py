"""The field types the entity models share, each built on a rule of :mod:`agentsdb.rules`.

Timestamps are aware moments in UTC (:mod:`agentsdb.rules.timestamps`); a ``Key`` is an id
(:func:`agentsdb.rules.text.key_problem`, compiled into pydantic's constraints); handles and
emails are stored in their identity form (:mod:`agentsdb.rules.identity`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    GetCoreSchemaHandler,
    JsonValue,
    StringConstraints,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError, core_schema

from agentsdb.rules.identity import normalize_email, normalize_handle
from agentsdb.rules.text import KEY_PATTERN, MAX_KEY_LENGTH, MAX_NAME_LENGTH

T = TypeVar("T")


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment  # already what it must be: the clocks' own moments take this path
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must be timezone-aware; use datetime.now(UTC) or an ISO time with Z")
    return moment.astimezone(UTC)


def _not_null(value: T | None) -> T:
    if value is None:
        raise ValueError("must not be null")
    return value


def _at_most(limit: int) -> Callable[[str, ValidationInfo], str]:
    """A length limit for new values only: rows stored before the limit existed stay readable."""

    def check(value: str, info: ValidationInfo) -> str:
        if len(value) > limit and not (info.context and info.context.get("stored")):
            raise PydanticCustomError(
                "agentsdb_invalid", f"must be at most {limit} characters long, not {len(value)}"
            )
        return value

    return check


#: A timezone-aware moment, normalized to UTC.
Timestamp: TypeAlias = Annotated[datetime, AfterValidator(_aware_utc)]


class _ZeroOffsetJsonInOnePass:
    """Reads a :data:`Timestamp` from JSON text without calling into Python when the text has a
    zero offset (``Z``, the stored format): pydantic's own moment, whose ``tzinfo`` is its
    fixed UTC offset (equal to ``datetime.UTC``), is kept as it is. Other offsets are normalized
    as in Python mode. The after-validator's call is most of the cost of reading a small payload:
    replaying thousands of stored events pays it once per moment.
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        python = handler(source)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema(
                [core_schema.datetime_schema(tz_constraint=0), python],
                mode="left_to_right",
                custom_error_type="agentsdb_invalid",
                custom_error_message=(
                    "must be a timezone-aware ISO 8601 time, such as 2026-11-22T11:45:00.123456Z"
                ),
            ),
            python_schema=python,
            serialization=python.get("serialization"),
        )


#: A :data:`Timestamp` that reads zero-offset JSON text in one pass (see
#: :class:`_ZeroOffsetJsonInOnePass`): for values replayed from stored JSON by the thousand.
JsonTimestamp: TypeAlias = Annotated[Timestamp, _ZeroOffsetJsonInOnePass]

#: A row key (:func:`agentsdb.rules.text.key_problem`): 1 to 255 characters, no whitespace.
Key: TypeAlias = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN)
]

#: Text that must contain something other than whitespace.
Text: TypeAlias = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]

#: A name stored in an indexed column: non-blank text of at most 255 characters.
Name: TypeAlias = Annotated[
    str,
    StringConstraints(min_length=1, pattern=r"\S"),
    AfterValidator(_at_most(MAX_NAME_LENGTH)),
]

#: Text stored in an indexed column (an external id): at most 255 characters.
IndexedText: TypeAlias = Annotated[str, AfterValidator(_at_most(MAX_NAME_LENGTH))]

#: A JSON object (dict with string keys) whose values are JSON values.
JsonObject: TypeAlias = dict[str, JsonValue]

#: A JSON array.
JsonList: TypeAlias = list[JsonValue]

#: Any JSON value but null (a column that must hold a value).
JsonContent: TypeAlias = Annotated[JsonValue, AfterValidator(_not_null)]

#: In an update model: may be left out, but when given must not be None.
NotNull: TypeAlias = Annotated[T | None, AfterValidator(_not_null)]


_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


def _phone(value: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.match(phone):
        raise ValueError("must be a phone number of 7 to 15 digits, optionally starting with +")
    return phone


def _rule(check: Callable[[str], str]) -> Callable[[str], str]:
    """A rule as a field validator: its ValueError becomes a plain message (no pydantic URL)."""

    def validate(value: str) -> str:
        try:
            return check(value)
        except ValueError as error:
            raise PydanticCustomError("agentsdb_invalid", str(error)) from error

    return validate


#: A handle, stored in its identity form (see :mod:`agentsdb.rules.identity`), without ``@``.
Handle: TypeAlias = Annotated[str, AfterValidator(_rule(normalize_handle))]

#: An email address, stored in its identity form (see :mod:`agentsdb.rules.identity`).
Email: TypeAlias = Annotated[str, AfterValidator(_rule(normalize_email))]

#: A phone number, stored as digits with an optional leading ``+``.
Phone: TypeAlias = Annotated[str, AfterValidator(_rule(_phone))]


__all__ = [
    "Email",
    "Handle",
    "IndexedText",
    "JsonContent",
    "JsonList",
    "JsonObject",
    "JsonTimestamp",
    "Key",
    "Name",
    "NotNull",
    "Phone",
    "Text",
    "Timestamp",
]
