"""What every job writes goes through the models first: a legacy row becomes the model of the
row the job will write (so the rules of :mod:`agentsdb.rules` apply, as for any other write),
or the reason the job skips it and reports.

A job writes the model's own parameters (:meth:`~agentsdb.models.Record.to_params`), so
whatever a job stores, the repositories read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from agentsdb.errors import ValidationError
from agentsdb.models import Record

R = TypeVar("R", bound=Record)

#: The model recorded for migrated agents, which had none; change it per agent afterwards.
LEGACY_MODEL: Final = "unspecified"


def refusal(error: ValidationError) -> str:
    """A report's skip reason for a model's refusal: ``"invalid <field>, <field>"``.

    Only the fields are named (sorted), never the values: one reason counts all the rows
    refused for the same fields.
    """
    fields = sorted({str(problem["loc"][0]) for problem in error.errors() if problem["loc"]})
    return f"invalid {', '.join(fields)}" if fields else "invalid row"


def checked(model: type[R], data: Mapping[str, Any]) -> R | str:
    """``data`` validated as ``model``, or the skip reason (see :func:`refusal`)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        return refusal(error)


__all__ = ["LEGACY_MODEL", "checked", "refusal"]
