"""The job framework: keyset-ordered batches, one transaction per batch with its checkpoint.

A :class:`Job` is a list of :class:`Step` objects, each one pass over one source table in key
order. The runner reads a batch from the source (``LIMIT`` rows after the last key), then runs
one program on the target that reads the target state it needs, decides every row, writes the
batch and the checkpoint, and commits: one worker-thread hop on SQLite. A dry run runs the same
program without the transaction and the writes, so it reports exactly what a real run would do.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

from agentsdb.db.base import Begin, Commit, Database, Execute, Program, Row
from agentsdb.jobs.checkpoint import (
    finish_program,
    has_job_runs_table,
    load_checkpoint,
    save_checkpoint,
)
from agentsdb.jobs.errors import MissingSourceError, TargetNotMigratedError
from agentsdb.jobs.progress import Progress
from agentsdb.jobs.report import JobReport
from agentsdb.jobs.schema import SourceTable, find_missing, table_columns
from agentsdb.jobs.validation import ValidationReport
from agentsdb.rules.timestamps import Clock, format_timestamp, utc_now

log = logging.getLogger("agentsdb.jobs")

DEFAULT_BATCH_SIZE = 1000


class Step(ABC):
    """One keyset-ordered pass over a source table."""

    #: The source table this step reads.
    table: str
    #: The step's name in the checkpoint (the table's unless two steps read one table).
    name: str = ""
    #: Whether the job runs without this table.
    optional: bool = False

    @abstractmethod
    def select(self, first: bool) -> str:
        """The batch query: ``:limit`` rows in key order, after the key ``:k0, :k1, …`` unless
        ``first``."""

    @abstractmethod
    def key_of(self, row: Row) -> list[Any]:
        """The keyset key of a row, as stored in the checkpoint."""

    def apply(self, rows: list[Row], report: JobReport, *, write: bool) -> Program[None]:
        """Decide each row against the target, count it in ``report``, and write it when
        ``write`` (inside the batch's open transaction).

        A step implements this, or overrides :meth:`run_batch` when its writes cannot share one
        program with the checkpoint."""
        raise NotImplementedError(f"{type(self).__name__} implements neither apply nor run_batch")

    async def run_batch(
        self,
        target: Database,
        rows: list[Row],
        total: JobReport,
        job: str,
        *,
        write: bool,
        now: str,
    ) -> JobReport:
        """Decide one batch and, when ``write``, write it together with the job's checkpoint
        (the counts in ``total`` plus this batch's, stamped ``now``); returns the batch's own
        counts.

        By default :meth:`apply` and the checkpoint run as one program in one transaction."""
        return await target.run(_batch_program(self, rows, total, job, write, now))

    @property
    def step_name(self) -> str:
        """The name recorded in the checkpoint."""
        return self.name or self.table

    def count_sql(self) -> str:
        """A query whose ``n`` is the number of rows this step reads (for the progress bar)."""
        return f"SELECT COUNT(*) AS n FROM {self.table}"

    async def start(self, source: Database, resume_key: list[Any] | None) -> None:  # noqa: B027
        """Prepare a pass, starting after ``resume_key`` (None: from the beginning)."""

    async def fetch(self, source: Database, first: bool, params: dict[str, Any]) -> list[Row]:
        """One batch of source rows: :meth:`select` run on the source. A step that needs more
        than its table's own columns adds it here (from what :meth:`start` prepared), so the
        batch query stays a keyset read of one table."""
        return await source.fetch_all(self.select(first), params)

    async def close(self) -> None:  # noqa: B027
        """Release what :meth:`start` prepared; called after the pass, however it ended."""

    async def batches(
        self, source: Database, after: list[Any] | None, size: int
    ) -> AsyncGenerator[list[Row], None]:
        """The pass's batches of at most ``size`` rows in key order, after the key ``after``
        (None: from the beginning). By default, :meth:`fetch` run again after each batch's
        last key. A step whose order no source index gives overrides this."""
        key = after
        while True:
            params: dict[str, Any] = {"limit": size}
            if key is not None:
                params.update(_key_params(key))
            rows = await self.fetch(source, key is None, params)
            if not rows:
                return
            yield rows
            key = self.key_of(rows[-1])


class Job(ABC):
    """A backfill: source tables, the steps over them, validation and the summary line.

    ``clock`` tells the time of the job's checkpoints (and of the rows its steps stamp);
    the default is :func:`~agentsdb.rules.timestamps.utc_now`.
    """

    name: str

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self.clock = clock

    @abstractmethod
    def source_tables(self) -> tuple[SourceTable, ...]:
        """The tables and columns the job reads from the source."""

    @abstractmethod
    def steps(self, source: Database, target: Database) -> list[Step]:
        """The passes, in order, for this pair of databases."""

    @abstractmethod
    def summary(self, report: JobReport) -> str:
        """The closing line of a run, e.g. "Migrated 3 agents."."""

    @abstractmethod
    async def validate(
        self, source: Database, target: Database, report: JobReport | None
    ) -> ValidationReport:
        """Parity per table, orphans and skips after a run."""

    async def check(self, source: Database, target: Database) -> None:
        """Fail before anything is written when a database lacks what the job needs."""
        missing = await find_missing(source, self.source_tables())
        if missing is not None:
            raise MissingSourceError(self.name, *missing)
        if not await has_job_runs_table(target):
            raise TargetNotMigratedError(self.name, target.url)


def _key_params(key: Sequence[Any]) -> dict[str, Any]:
    return {f"k{i}": value for i, value in enumerate(key)}


def batch_checkpoint(
    step: Step, rows: list[Row], total: JobReport, batch: JobReport, job: str, now: str
) -> Execute:
    """The statement that records the job's progress after ``batch`` at ``now`` (the stored
    timestamp format), in the batch's unit."""
    merged = JobReport.from_json(job, total.counts())
    merged.merge(batch)
    last_key = {"step": step.step_name, "key": step.key_of(rows[-1])}
    return save_checkpoint(job, last_key, merged, now)


def _batch_program(
    step: Step,
    rows: list[Row],
    total: JobReport,
    job: str,
    write: bool,
    now: str,
) -> Program[JobReport]:
    batch = JobReport(job=job, rows_read=len(rows))
    if not write:
        yield from step.apply(rows, batch, write=False)
        return batch
    yield Begin()
    yield from step.apply(rows, batch, write=True)
    yield batch_checkpoint(step, rows, total, batch, job, now)
    yield Commit()
    return batch


async def _count(db: Database, sql: str) -> int:
    row = await db.fetch_one(sql)
    return 0 if row is None else int(row["n"])


async def run_job(
    job: Job,
    source: Database,
    target: Database,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
) -> JobReport:
    """Run ``job`` from ``source`` into ``target`` (they may be the same database).

    A real run resumes a run that stopped; a finished job runs again from the beginning (and
    changes nothing that is already in place). ``dry_run`` reads everything, writes nothing,
    and returns the report a real run would. The checkpoints are stamped by ``job.clock``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    await job.check(source, target)
    report = JobReport(job=job.name, dry_run=dry_run)
    resume: dict[str, Any] | None = None
    if not dry_run:
        checkpoint = await load_checkpoint(target, job.name)
        if checkpoint is not None and checkpoint.running and checkpoint.last_key is not None:
            resume = checkpoint.last_key
            report.merge(checkpoint.report)
            log.info("%s: resuming after %s", job.name, resume)
    steps = [
        step
        for step in job.steps(source, target)
        if not step.optional or await table_columns(source, step.table)
    ]
    names = [step.step_name for step in steps]
    first_step = names.index(resume["step"]) if resume and resume["step"] in names else 0
    total_rows = sum([await _count(source, step.count_sql()) for step in steps])
    bar = Progress(total_rows, job.name) if progress else None
    if bar is not None:
        bar.advance(report.rows_read)
    try:
        for index, step in enumerate(steps[first_step:], start=first_step):
            key: list[Any] | None = None
            if resume is not None and index == first_step:
                key = list(resume["key"])
            await step.start(source, key)
            try:
                async with aclosing(step.batches(source, key, batch_size)) as batches:
                    async for rows in batches:
                        batch = await step.run_batch(
                            target,
                            rows,
                            report,
                            job.name,
                            write=not dry_run,
                            now=format_timestamp(job.clock()),
                        )
                        report.merge(batch)
                        key = step.key_of(rows[-1])
                        if bar is not None:
                            bar.advance(len(rows))
                        log.info(
                            "%s: %s to %s (%d rows)",
                            job.name,
                            step.step_name,
                            key,
                            report.rows_read,
                        )
            finally:
                await step.close()
    finally:
        if bar is not None:
            bar.close()
    if not dry_run:
        await target.run(finish_program(job.name, report, format_timestamp(job.clock())))
    return report


async def validate_job(job: Job, source: Database, target: Database) -> ValidationReport:
    """Validate a job's result: parity, orphans, and the skips of its last run."""
    await job.check(source, target)
    checkpoint = await load_checkpoint(target, job.name)
    return await job.validate(source, target, None if checkpoint is None else checkpoint.report)


__all__ = ["DEFAULT_BATCH_SIZE", "Job", "Step", "batch_checkpoint", "run_job", "validate_job"]
