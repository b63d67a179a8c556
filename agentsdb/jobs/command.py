"""``agentsdb backfill``: run or validate a job between two URLs and print what happened."""

from __future__ import annotations

from contextlib import AsyncExitStack

from agentsdb.db import connect
from agentsdb.jobs.framework import DEFAULT_BATCH_SIZE, Job, run_job, validate_job


async def backfill(
    job: Job,
    *,
    source_url: str | None,
    target_url: str | None,
    dry_run: bool = False,
    validate: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Run (or validate) ``job`` and print its report; returns the exit code.

    Without ``source_url`` the job reads the target database itself. Neither database is
    created: a path that does not exist (a typo) fails with DatabaseFileError naming it.
    """
    async with AsyncExitStack() as stack:
        target = await stack.enter_async_context(connect(target_url, create=False))
        same = source_url is None or source_url == target_url
        source = (
            target if same else await stack.enter_async_context(connect(source_url, create=False))
        )
        if validate:
            result = await validate_job(job, source, target)
            print(result.format())
            return 0 if result.ok else 1
        report = await run_job(job, source, target, dry_run=dry_run, batch_size=batch_size)
        if dry_run:
            print("Dry run: nothing was written; a real run would do this.")
        else:
            print(job.summary(report))
        print(report.format())
        return 0


__all__ = ["backfill"]
