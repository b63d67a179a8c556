"""Errors of the backfill jobs; each carries what caused it and says what to do next."""

from __future__ import annotations

from agentsdb.errors import AgentsDBError
from agentsdb.rules.quoting import short_repr


class JobError(AgentsDBError):
    """A backfill job cannot run."""


class MissingSourceError(JobError):
    """The source lacks a table (``column`` None) or a column the job needs. Nothing was written."""

    def __init__(self, job: str, table: str, column: str | None = None) -> None:
        self.job = job
        self.table = table
        self.column = column
        what = f"table {table!r}" if column is None else f"column {table}.{column}"
        super().__init__(
            f"{job}: the source database has no {what}; nothing was written "
            "(see docs/backfill.md for the tables the job reads)"
        )


class TargetNotMigratedError(JobError):
    """The target lacks the agentsdb tables the job writes."""

    def __init__(self, job: str, url: str) -> None:
        self.job = job
        self.url = url
        super().__init__(
            f"{job}: the target database {url} is not migrated; "
            "run `agentsdb migrate --db URL` first"
        )


class UnknownJobError(JobError):
    """No job has that name."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(
            f"no backfill job named {short_repr(name)}; known jobs: {', '.join(known)}"
        )


__all__ = ["JobError", "MissingSourceError", "TargetNotMigratedError", "UnknownJobError"]
