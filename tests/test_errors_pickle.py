"""Every agentsdb error pickles and comes back equal: a worker process or a task queue can send
it on. Most take other arguments than their message, which plain exceptions cannot unpickle."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from typing import Any

import pytest

import agentsdb
from agentsdb.errors import AgentsDBError, ConcurrencyError, IntegrityError, ValidationError
from agentsdb.models import Agent

# A value for each parameter annotation the errors' constructors use.
SAMPLES: dict[str, Any] = {
    "str": "sample",
    "str | None": "maybe",
    "int": 7,
    "int | None": 8,
    "list[str]": ["first", "second"],
    "float": 1.5,
    "bool": True,
    "object": ("any", 1),
    "Sequence[str]": ["first", "second"],
    "Sequence[MigrationResult]": [],
}


def every_error_class() -> list[type[AgentsDBError]]:
    for module in pkgutil.walk_packages(agentsdb.__path__, "agentsdb."):
        if module.name != "agentsdb.__main__":
            importlib.import_module(module.name)
    found: set[type[AgentsDBError]] = set()
    pending = [AgentsDBError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def made(cls: type[AgentsDBError]) -> AgentsDBError:
    """An error of ``cls`` with a sample for every parameter (keyword-only ones by name)."""
    if issubclass(cls, ValidationError):
        try:
            Agent(name=1)  # type: ignore[arg-type]  # refused on purpose
        except ValidationError as refused:
            return refused
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        return cls("a message naming the problem")
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = SAMPLES[str(parameter.annotation)]
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda cls: cls.__qualname__)
def test_every_error_unpickles_as_the_same_error(cls: type[AgentsDBError]) -> None:
    error = made(cls)
    error.add_note("a note added on the way")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    if isinstance(error, ValidationError):
        assert copy.errors() == error.errors()
    else:
        assert copy.args == error.args
        assert copy.__dict__ == error.__dict__


def test_the_fields_a_caller_reads_survive_pickling() -> None:
    lost_race = pickle.loads(pickle.dumps(ConcurrencyError("agent-1", 3, 4)))
    assert (lost_race.stream_id, lost_race.expected, lost_race.actual) == ("agent-1", 3, 4)
    refused = pickle.loads(
        pickle.dumps(IntegrityError("refused", sql="INSERT ...", constraint="users.email"))
    )
    assert (refused.sql, refused.constraint) == ("INSERT ...", "users.email")
