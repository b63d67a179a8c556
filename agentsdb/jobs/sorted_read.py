"""Read a source table in an order no index of it gives: an external merge sort.

The table is read once in keyset order of its primary key (the one index every table has), cut
into runs of ``run_size`` records that are sorted in memory and spilled to a temporary file each,
and the runs are merged lazily. Sorting N rows costs O(N log N) whatever other indexes the source
has; memory holds one run (plus one record per run while merging); the files go when the read
ends. Nothing is written to the source.

A resumed read sorts again and drops every record up to the key it resumes after, so a resume
costs one more sort, never a scan per batch.
"""

from __future__ import annotations

import heapq
import json
import logging
import tempfile
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeAlias

from agentsdb.db.base import Database, Row

log = logging.getLogger("agentsdb.jobs")

#: A record's place in the order: JSON-ready values, compared as a list.
SortKey: TypeAlias = list[Any]
#: What the merge carries: the key and the record (a JSON-ready dict).
Keyed: TypeAlias = tuple[SortKey, dict[str, Any]]

#: Records sorted in memory before a run is spilled to disk.
DEFAULT_RUN_SIZE = 50_000


def _spill(run: list[Keyed], folder: Path, number: int) -> Path:
    run.sort(key=lambda item: item[0])
    path = folder / f"run-{number:06d}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for key, record in run:
            out.write(json.dumps([key, record], separators=(",", ":")))
            out.write("\n")
    return path


def _read_run(path: Path, stack: ExitStack) -> Iterator[Keyed]:
    handle = stack.enter_context(path.open(encoding="utf-8"))
    for line in handle:
        key, record = json.loads(line)
        yield key, record


async def sorted_records(
    source: Database,
    page_sql: Callable[[bool], str],
    primary_key: str,
    record_of: Callable[[Row], Keyed],
    *,
    after: SortKey | None,
    page_size: int,
    run_size: int = DEFAULT_RUN_SIZE,
) -> AsyncGenerator[Keyed, None]:
    """Every row of a table as ``record_of`` makes it, in key order, after ``after``.

    ``page_sql(first)`` reads ``:limit`` rows in ``primary_key`` order, after ``:k0`` unless
    ``first``. ``record_of`` turns a row into its sort key and a JSON-ready record.
    """
    if run_size < 1:
        raise ValueError(f"run_size must be a positive integer, got {run_size!r}")
    with tempfile.TemporaryDirectory(prefix="agentsdb-sort-") as folder:
        runs: list[Path] = []
        run: list[Keyed] = []
        last: Any = None
        first = True
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if not first:
                params["k0"] = last
            rows = await source.fetch_all(page_sql(first), params)
            if not rows:
                break
            first, last = False, rows[-1][primary_key]
            for row in rows:
                key, record = record_of(row)
                if after is None or key > after:
                    run.append((key, record))
                if len(run) >= run_size:
                    runs.append(_spill(run, Path(folder), len(runs)))
                    run = []
        if not runs:
            # Everything fit in one run: no file needed.
            run.sort(key=lambda item: item[0])
            for item in run:
                yield item
            return
        if run:
            runs.append(_spill(run, Path(folder), len(runs)))
        log.info("sorted the source into %d runs of up to %d records", len(runs), run_size)
        with ExitStack() as stack:
            merged = heapq.merge(*(_read_run(path, stack) for path in runs), key=lambda i: i[0])
            for item in merged:
                yield item


__all__ = ["DEFAULT_RUN_SIZE", "Keyed", "SortKey", "sorted_records"]
