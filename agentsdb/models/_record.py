"""What every entity model shares: the base classes, field types and conversions to and from SQL.

Timestamps are stored in the one format of :mod:`agentsdb.clock` (UTC ISO-8601, microseconds,
``Z``) on every backend. JSON fields are written as compact JSON text (PostgreSQL stores it as
JSONB) and read back from text, or from the values the driver decoded.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from json import encoder as json_encoder
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    JsonValue,
    StringConstraints,
    ValidationInfo,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from agentsdb.errors import ValidationError
from agentsdb.rules.identity import normalize_email, normalize_handle
from agentsdb.rules.text import MAX_KEY_LENGTH, MAX_NAME_LENGTH, value_problem

T = TypeVar("T")

# One encoder built once: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _not_json(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The C encoder behind json.dumps, called directly: half the cost per call, and appends encode
# a JSON value per row. Models only hold validated JSON values, so no circular-reference check.
_make_c_encoder: Callable[..., Callable[[object, int], Iterable[str]]] | None = getattr(
    json_encoder, "c_make_encoder", None
)
_C_ENCODER = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _not_json, json_encoder.encode_basestring, None, ":", ",", False, False, False
    )
)


def encode_json(value: object) -> str:
    """Compact JSON text, as stored in JSON columns."""
    if _C_ENCODER is None or isinstance(value, str | int | float):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


# The C scanner behind json.loads, called directly: json.loads first checks its arguments and
# strips white space with a regular expression, half the cost of parsing a small document.
_DECODER = json.decoder.JSONDecoder()
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]  # typeshed omits it


def decode_json(value: object, decoded: bool = False) -> Any:
    """A JSON column's value: JSON text is parsed; a value a driver already decoded is kept.

    ``decoded`` says the driver decodes JSON columns itself (PostgreSQL's JSONB): a ``str`` is
    then a JSON string, not JSON text, and is kept as it is.
    """
    if decoded:
        return value
    if isinstance(value, str):
        if value == "{}":
            return {}
        try:
            parsed, end = _SCAN_JSON(value, 0)
        except StopIteration:  # not a JSON value where it starts (white space, or bad text)
            return json.loads(value)
        # Anything after the value (white space, or text json.loads refuses) gets its verdict.
        return parsed if end == len(value) else json.loads(value)
    if isinstance(value, bytes | bytearray):
        return json.loads(value)
    return value


# --- timestamps ----------------------------------------------------------------------------------

_ONE_MICROSECOND = timedelta(microseconds=1)
_clock_lock = threading.Lock()
_last_stamp = datetime.min.replace(tzinfo=UTC)


def now() -> datetime:
    """The current UTC time, later than every value returned before in this process.

    Two rows stamped in the same microsecond still get distinct, ordered timestamps, and an
    update always moves ``updated_at``.
    """
    global _last_stamp
    moment = datetime.now(UTC)
    with _clock_lock:
        if moment <= _last_stamp:
            moment = _last_stamp + _ONE_MICROSECOND
        _last_stamp = moment
    return moment


def format_ts(moment: datetime) -> str:
    """The :func:`agentsdb.clock.format_timestamp` text, computed 3x faster than strftime."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must be timezone-aware; use datetime.now(UTC) or an ISO time with Z")
    return moment.astimezone(UTC)


def _not_null(value: T | None) -> T:
    if value is None:
        raise ValueError("must not be null")
    return value


#: The validation context of rows read back from the database.
_STORED = {"stored": True}


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

#: A row key: 1 to 255 characters, no whitespace (a UUID, a DID, an external id).
Key: TypeAlias = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH, pattern=r"^\S+$")
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


# --- conversions ---------------------------------------------------------------------------------


def to_sql(value: object, as_json: bool) -> object:
    """A model value as a SQL parameter (``None`` is SQL NULL, also in a JSON column)."""
    if value is None:
        return None
    if as_json:
        return encode_json(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_ts(value)
    return value


_set_attribute = object.__setattr__


def refuse_unstorable(model: type[BaseModel], data: object) -> None:
    """Refuse input holding text no backend may store alike (NUL, lone surrogates).

    Checks every given field, JSON values to their last nested string (see
    :mod:`agentsdb.rules.text`), before pydantic or any model validator sees them.
    """
    if not isinstance(data, Mapping):
        return
    for name, value in data.items():
        problem = value_problem(value)
        if problem is not None:
            raise ValidationError.refuse(model.__name__, str(name), value, problem)


class CheckedModel(BaseModel):
    """A model whose every refusal is :class:`agentsdb.errors.ValidationError`.

    Building one (``Agent(...)``, ``model_validate``) or assigning a field raises the library's
    error, which is also pydantic's; before pydantic's checks, the text rules of
    :mod:`agentsdb.rules.text` run over every given field first.
    """

    def __init__(self, /, **data: Any) -> None:
        refuse_unstorable(type(self), data)
        try:
            super().__init__(**data)
        except PydanticValidationError as error:
            raise ValidationError.wrap(error) from error

    # Validation that does not come through a call of the class (from_stored, a model nested in
    # another) must not come through this __init__ either: pydantic would route it here (and
    # lose its context) if it took this for a custom __init__.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # pydantic's own marker

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Validate ``obj`` into a model; ValidationError when it is refused."""
        refuse_unstorable(cls, obj)
        try:
            return super().model_validate(obj, **options)
        except PydanticValidationError as error:
            raise ValidationError.wrap(error) from error

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Self:
        """Validate a row read back from the database.

        Stored text is not checked again, and the length limits apply to new values only.
        """
        try:
            return cls.__pydantic_validator__.validate_python(data, context=_STORED)  # type: ignore[no-any-return]  # pydantic types it Any
        except PydanticValidationError as error:
            raise ValidationError.wrap(error) from error

    if not TYPE_CHECKING:
        # Only when assignment is validated (Record): wrap its errors and check the text rules.

        def __setattr__(self, name: str, value: Any) -> None:
            try:
                super().__setattr__(name, value)
            except PydanticValidationError as error:
                raise ValidationError.wrap(error) from error
            problem = value_problem(value)
            if problem is not None:
                raise ValidationError.refuse(type(self).__name__, name, value, problem)


class Record(CheckedModel):
    """Base of the entity models: one row of one table.

    ``from_row`` builds a model from a database row (validating it); ``to_params`` gives the
    named parameters of the entity's insert statement.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    #: Columns stored as JSON text.
    json_columns: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, json_decoded: bool = False) -> Self:
        """Build the model from a row as a query returned it.

        JSON columns come as JSON text (SQLite, libSQL) or, with ``json_decoded``, as the values
        the driver decoded (PostgreSQL's JSONB); see :func:`decode_json`.
        """
        data = dict(row)
        for column in cls.json_columns:
            if column in data:
                data[column] = decode_json(data[column], json_decoded)
        return cls.from_stored(data)

    def assign_stored(self, **assigned: Any) -> None:
        """Set values the database assigned (such as ``id``) on this model, without validation."""
        self.__dict__.update(assigned)
        self.__pydantic_fields_set__.update(assigned)

    def stored_as(self, **assigned: Any) -> Self:
        """A copy carrying values the database assigned (such as ``id``), not validated again.

        Cheaper than ``model_copy``, which matters on the append paths.
        """
        cls = type(self)
        copied = cls.__new__(cls)
        values = self.__dict__.copy()
        values.update(assigned)
        _set_attribute(copied, "__dict__", values)
        _set_attribute(
            copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | assigned.keys()
        )
        _set_attribute(copied, "__pydantic_extra__", None)
        _set_attribute(copied, "__pydantic_private__", None)
        return copied

    def to_params(self) -> dict[str, Any]:
        """Every column as a named SQL parameter: enums as text, timestamps and JSON as text."""
        json_columns = self.json_columns
        return {
            name: to_sql(getattr(self, name), name in json_columns)
            for name in type(self).model_fields
        }


class Patch(CheckedModel):
    """Base of the update models: only the fields given are changed.

    ``to_params`` gives, for every column ``c`` the update statement can change, ``c`` (the new
    value) and ``set_c`` (true when ``c`` was given), so one fixed statement updates exactly the
    given columns.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    json_columns: ClassVar[frozenset[str]] = frozenset()

    def to_params(self) -> dict[str, Any]:
        """``c`` and ``set_c`` for every updatable column."""
        given = self.model_fields_set
        params: dict[str, Any] = {}
        for name in type(self).model_fields:
            present = name in given
            params[f"set_{name}"] = present
            params[name] = (
                to_sql(getattr(self, name), name in self.json_columns) if present else None
            )
        return params


def stamp_defaults(data: Any) -> Any:
    """A new record without ``updated_at`` gets its ``created_at`` (or now, for both)."""
    if isinstance(data, dict) and "updated_at" not in data:
        moment = data["created_at"] if "created_at" in data else now()
        data = {**data, "created_at": moment, "updated_at": moment}
    return data


__all__ = [
    "CheckedModel",
    "Email",
    "Handle",
    "IndexedText",
    "JsonContent",
    "JsonList",
    "JsonObject",
    "Key",
    "Name",
    "NotNull",
    "Patch",
    "Phone",
    "Record",
    "Text",
    "Timestamp",
    "decode_json",
    "encode_json",
    "format_ts",
    "normalize_email",
    "normalize_handle",
    "now",
    "refuse_unstorable",
    "to_sql",
]
