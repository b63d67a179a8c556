"""What every entity model shares: the base classes and the conversions to and from SQL.

Field types are in :mod:`agentsdb.models._fields`, JSON columns in :mod:`agentsdb.models._json`,
timestamps in :mod:`agentsdb.rules.timestamps` (stored as UTC ISO-8601 with microseconds and a
``Z`` on every backend); this module re-exports them for the modules that import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from agentsdb.errors import ValidationError
from agentsdb.models._fields import (
    Email,
    Handle,
    IndexedText,
    JsonContent,
    JsonList,
    JsonObject,
    Key,
    Name,
    NotNull,
    Phone,
    Text,
    Timestamp,
)
from agentsdb.models._json import decode_json, encode_json
from agentsdb.models._pydantic import as_pydantic_init, assign, copy_with
from agentsdb.rules.identity import normalize_email, normalize_handle
from agentsdb.rules.text import value_problem
from agentsdb.rules.timestamps import format_timestamp as format_ts
from agentsdb.rules.timestamps import now

#: The validation context of rows read back from the database.
_STORED = {"stored": True}


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

    # Validation that does not come through a call of the class (from_stored, a model nested in
    # another) must not come through this __init__ either: pydantic would route it here (and
    # lose its context) if it took this for a custom __init__.
    @as_pydantic_init
    def __init__(self, /, **data: Any) -> None:
        refuse_unstorable(type(self), data)
        try:
            super().__init__(**data)
        except PydanticValidationError as error:
            raise ValidationError.wrap(error) from error

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
        assign(self, **assigned)

    def stored_as(self, **assigned: Any) -> Self:
        """A copy carrying values the database assigned (such as ``id``), not validated again.

        Cheaper than ``model_copy``, which matters on the append paths.
        """
        return copy_with(self, **assigned)

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
