"""A Migration is frozen through and through: its checksums and lint are derived when it is
made, so reading them changes nothing in it."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from agentsdb.errors import MigrationDefinitionError
from agentsdb.migration import Migration, checksum_statements


def snapshot(migration: Migration) -> dict[str, str]:
    return {
        name: repr(dict(value) if isinstance(value, Mapping) else value)
        for name, value in vars(migration).items()
    }


def test_checksums_and_lint_are_fixed_when_the_migration_is_made() -> None:
    migration = Migration(
        id="001",
        description="per dialect",
        up={"sqlite": ["CREATE TABLE t (x)"], "postgresql": ["CREATE TABLE t (x INT)"]},
        down=["DROP TABLE t"],
    )
    before = snapshot(migration)
    assert migration.checksum("sqlite") == checksum_statements(("CREATE TABLE t (x)",))
    assert migration.checksum("postgresql") == checksum_statements(("CREATE TABLE t (x INT)",))
    assert migration.down_checksum("postgresql") == checksum_statements(("DROP TABLE t",))
    assert migration.lint() == []
    migration.lint().append("changed by a caller")
    assert migration.lint() == []
    assert snapshot(migration) == before
    with pytest.raises(TypeError):
        migration._checksums["sqlite"] = "x"  # type: ignore[index]  # proving it is read-only


def test_a_dialect_without_statements_is_named() -> None:
    migration = Migration(id="001", description="d", up={"sqlite": ["SELECT 1"]})
    with pytest.raises(MigrationDefinitionError, match="no statements for the postgresql"):
        migration.checksum("postgresql")
    assert migration.down_checksum("postgresql") is None


def test_lint_is_found_when_the_migration_is_made() -> None:
    migration = Migration(id="001", description="d", up=["BEGIN", "SELECT 1"])
    assert migration.lint() == [migration.lint()[0]]
    assert "BEGIN controls the transaction" in migration.lint()[0]
