"""The aggregate package exports its public names, and its errors sit under AgentsDBError."""

from __future__ import annotations

import inspect

import pytest

import agentsdb.aggregate as aggregate
from agentsdb.aggregate import DomainError
from agentsdb.errors import AgentsDBError


@pytest.mark.parametrize("name", aggregate.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert hasattr(aggregate, name)


#: The AgentStore's errors that break no rule of the aggregate: a lookup and a lost race.
STORE_ERRORS = ("AgentNotFoundError", "RetriesExhaustedError")


def test_every_exported_error_is_a_domain_error_under_the_library_root() -> None:
    errors = [
        value
        for name in aggregate.__all__
        if name not in STORE_ERRORS
        and inspect.isclass(value := getattr(aggregate, name))
        and issubclass(value, Exception)
    ]
    assert len(errors) >= 20
    assert all(issubclass(error, DomainError) for error in errors)
    assert issubclass(DomainError, AgentsDBError)


@pytest.mark.parametrize("name", STORE_ERRORS)
def test_the_stores_other_errors_sit_under_the_library_root(name: str) -> None:
    error = getattr(aggregate, name)
    assert issubclass(error, AgentsDBError)
    assert not issubclass(error, DomainError)
