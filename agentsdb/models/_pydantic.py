"""The places the models go around pydantic's public API, each in one function.

* :func:`set_derived` sets a field a frozen model derives from its other fields (a default
  content hash) while pydantic builds it: a write into the instance ``__dict__``. The public
  path is to pass the value in, validating the model a second time.
* :func:`copy_with` copies a model with values the database assigned (an ``id``) without
  validating again: it fills ``__dict__``, ``__pydantic_fields_set__``, ``__pydantic_extra__``
  and ``__pydantic_private__``, pydantic's instance layout. The public path is
  ``model_copy(update=...)``, about twice the cost on the append paths.
* :func:`as_pydantic_init` marks a model's own ``__init__`` with pydantic's private
  ``__pydantic_base_init__``, so validation that does not call the class (``from_stored`` with
  its context, a model nested in another) does not go through that ``__init__``. There is no
  public path: without it, rows stored before a length limit existed would not read back.

``tests/test_models_private_apis.py`` compares each with its public path, so a pydantic that
changes its layout fails CI; ``benchmarks/bench_private_apis.py`` prints both paths' speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., None])

_set_attribute = object.__setattr__


def set_derived(model: BaseModel, name: str, value: object) -> None:
    """Set field ``name`` of a (possibly frozen) model being validated, without validation.

    Only for a value derived from fields already validated (an ``after`` model validator).
    """
    model.__dict__[name] = value


def assign(model: BaseModel, **assigned: Any) -> None:
    """Set values the database assigned on ``model`` itself, without validation; they count as
    set fields (as with :func:`copy_with`)."""
    model.__dict__.update(assigned)
    model.__pydantic_fields_set__.update(assigned)


def copy_with(model: M, **assigned: Any) -> M:
    """A copy of ``model`` with ``assigned`` fields replaced, not validated again: what
    ``model.model_copy(update=assigned)`` gives, at half the cost."""
    cls = type(model)
    copied = cls.__new__(cls)
    values = model.__dict__.copy()
    values.update(assigned)
    _set_attribute(copied, "__dict__", values)
    _set_attribute(
        copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | assigned.keys()
    )
    _set_attribute(copied, "__pydantic_extra__", None)
    _set_attribute(copied, "__pydantic_private__", None)
    return copied


def as_pydantic_init(init: F) -> F:
    """Mark ``init`` (a model's ``__init__``) as pydantic's own: pydantic then validates
    input that does not come through a call of the class without calling it."""
    init.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # pydantic's own marker
    return init


__all__ = ["as_pydantic_init", "assign", "copy_with", "set_derived"]
