"""The public API: every exported name resolves, and importing agentsdb stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import agentsdb


@pytest.mark.parametrize("name", agentsdb.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(agentsdb, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        agentsdb.Nope  # noqa: B018


def test_importing_agentsdb_does_not_load_models_or_drivers() -> None:
    probe = (
        "import sys, agentsdb; "
        "print(sorted(m for m in sys.modules if m.startswith(('agentsdb.models', "
        "'agentsdb.repositories', 'asyncpg', 'libsql_client'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_version_is_the_installed_distribution_version() -> None:
    from importlib.metadata import version

    assert agentsdb.__version__ == version("agentsdb")
