""":class:`ValidationError`, the one error that is also pydantic's. Importing it loads
pydantic-core, so :mod:`agentsdb.errors` hands it out on first use:
``agentsdb.errors.ValidationError`` is this class."""

from __future__ import annotations

from typing import Any

import pydantic_core

from agentsdb.errors.base import AgentsDBError


class ValidationError(AgentsDBError, pydantic_core.ValidationError):
    """Input was refused before any SQL ran; nothing was changed.

    Raised alike on every backend by the models (``Agent(...)``, ``SessionLog(...)``) and by the
    repositories' arguments (ids, cursors, handles, emails, names, status strings). It is also a
    :class:`pydantic.ValidationError` (and so a ``ValueError``): ``errors()`` lists each problem
    with the field (``loc``) it concerns. The message names the field and what is wrong, and
    shows at most a short prefix of the refused value.
    """

    def __reduce__(self) -> Any:
        # pydantic's own: its line errors do not pickle, its reduction rebuilds them.
        return pydantic_core.ValidationError.__reduce__(self)

    @classmethod
    def wrap(cls, error: pydantic_core.ValidationError) -> ValidationError:
        """The same problems as pydantic's ``error``, as the library's error."""
        if isinstance(error, ValidationError):
            return error
        details = error.errors()
        try:
            return cls.from_exception_data(
                error.title,
                [
                    pydantic_core.InitErrorDetails(
                        type=detail["type"], loc=detail["loc"], input=detail["input"]
                    )
                    if "ctx" not in detail
                    else pydantic_core.InitErrorDetails(
                        type=detail["type"],
                        loc=detail["loc"],
                        input=detail["input"],
                        ctx=detail["ctx"],
                    )
                    for detail in details
                ],
            )
        except (KeyError, TypeError, ValueError):
            # An error type pydantic cannot rebuild from its name (a custom one): keep its text.
            return cls.from_exception_data(
                error.title,
                [
                    pydantic_core.InitErrorDetails(
                        type=pydantic_core.PydanticCustomError(detail["type"], detail["msg"]),
                        loc=detail["loc"],
                        input=detail["input"],
                    )
                    for detail in details
                ],
            )

    @classmethod
    def refuse(cls, title: str, field: str, value: object, problem: str) -> ValidationError:
        """The error for one refused value: ``field`` of ``title`` is ``problem``.

        ``problem`` must not quote the value (the message shows a short prefix of it anyway).
        """
        return cls.from_exception_data(
            title,
            [
                pydantic_core.InitErrorDetails(
                    type=pydantic_core.PydanticCustomError("agentsdb_invalid", problem),
                    loc=(field,),
                    input=value,
                )
            ],
        )


ValidationError.__module__ = "agentsdb.errors"

__all__ = ["ValidationError"]
