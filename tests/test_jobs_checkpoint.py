"""Whether a target is migrated for the jobs is asked of the catalog: a database that cannot be
asked (closed) raises, on every backend, instead of reading as "not migrated"."""

from __future__ import annotations

import pytest

import agentsdb
from agentsdb.db.base import Database
from agentsdb.errors import ConnectionClosedError
from agentsdb.jobs.checkpoint import has_job_runs_table


async def test_the_job_runs_table_is_found_only_after_migrating(any_db: Database) -> None:
    assert await has_job_runs_table(any_db) is False
    await agentsdb.Migrator(any_db).migrate()
    assert await has_job_runs_table(any_db) is True


async def test_a_closed_database_raises_instead_of_reading_as_not_migrated(
    backend_url: str,
) -> None:
    database = await agentsdb.connect(backend_url)
    await agentsdb.Migrator(database).migrate()
    await database.close()
    with pytest.raises(ConnectionClosedError):
        await has_job_runs_table(database)
