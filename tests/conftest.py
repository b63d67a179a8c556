"""Shared fixtures: temp-file SQLite databases, fresh for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agentsdb
from agentsdb.db.base import Database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a new SQLite database file in the test's temp folder."""
    return tmp_path / "test.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open, empty SQLite database on a temp file."""
    async with agentsdb.connect(str(db_path)) as database:
        yield database


@pytest.fixture
async def migrated_db(db: Database) -> Database:
    """The temp-file database with every built-in migration applied."""
    await agentsdb.Migrator(db).migrate()
    return db
