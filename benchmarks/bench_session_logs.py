"""Session log appends and page reads: agentsdb beside raw sqlite3 and the OpenAI Agents SDK.

    pip install -e ".[bench]"
    python benchmarks/bench_session_logs.py            # the full run (1M-row depth case included)
    python benchmarks/bench_session_logs.py --quick    # a smaller run, for a smoke test

Every case runs on a fresh temp file. agentsdb and raw sqlite3 use the same migrated schema and
the same connection settings (WAL, foreign keys on); raw sqlite3 does the same work by hand
(JSON encoding included). SQLiteSession runs with its own schema, in WAL mode. Every write case
runs once per ``--synchronous`` level (default: FULL, then NORMAL) with every side at that level:
at FULL SQLiteSession runs as shipped, at NORMAL its connections are switched to NORMAL. Each
level is read back from SQLite and printed. Inputs (models, dicts, items) are built inside every
side's timer, as an application builds them per call. Each figure is the best of ``--repeat``
runs, the sides taking turns run by run. What the figures mean is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3

import durability
from log_bench.appends import bulk, one_at_a_time
from log_bench.common import SQLiteSession, Workdir
from log_bench.concurrent import concurrent
from log_bench.pages import pages

import agentsdb


def verdict(name: str, value: float, target: str, met: bool) -> None:
    print(f"  {'MET ' if met else 'MISS'}  {name:<46} {value:>8.2f}   target {target}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    parser.add_argument("--depth", type=int, default=None, help="rows before the deep page")
    parser.add_argument("--no-pages", action="store_true", help="skip the page-depth case")
    durability.add_argument(parser)
    args = parser.parse_args()
    quick = args.quick
    depth = args.depth or (20_000 if quick else 1_000_000)
    print(
        f"agentsdb {agentsdb.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; SQLiteSession "
        f"{'available' if SQLiteSession is not None else 'not installed (pip install .[bench])'}; "
        f"best of {args.repeat}"
    )
    work = Workdir()
    results: dict[str, tuple[dict[str, float], dict[str, float], dict[str, float]]] = {}
    read: dict[str, float] | None = None
    try:
        for level in args.synchronous:
            # A commit at FULL waits for the disk (about 2.5 ms here): fewer appends keep the
            # run short without changing the rate.
            scale = 5 if level in ("FULL", "EXTRA") else 1
            single = await one_at_a_time(
                work, (500 if quick else 2_000) // scale, args.repeat, level
            )
            many = await bulk(work, 10_000, args.repeat, level)
            together = await concurrent(
                work,
                16,
                (100 if quick else 1_000) // (scale * 4 if scale > 1 else 1),
                args.repeat,
                level,
            )
            results[level] = (single, many, together)
        if not args.no_pages:
            read = await pages(work, depth, 200 if quick else 1_000)
    finally:
        work.remove()

    print("\nTargets")
    for level, (single, many, together) in results.items():
        print(f"  at {durability.on_every_side(level)}:")
        verdict(
            "append_many / raw executemany",
            many["agentsdb"] / many["raw"],
            ">= 0.80",
            many["agentsdb"] >= 0.8 * many["raw"],
        )
        if "sdk" in single:
            ratio = single["agentsdb"] / single["sdk"]
            verdict("one-at-a-time / SQLiteSession", ratio, ">= 3.0", ratio >= 3)
        verdict(
            "16 appenders, rows/s (one session each)",
            together["agentsdb"],
            ">= 50,000",
            together["agentsdb"] >= 50_000,
        )
        verdict(
            "16 appenders, rows/s (one shared session)",
            together["agentsdb_shared"],
            ">= 50,000",
            together["agentsdb_shared"] >= 50_000,
        )
    if read is not None:
        ratio = read["deep"] / read["shallow"]
        verdict(f"page at depth {depth:,} / page at depth 0", ratio, "<= 1.5", ratio <= 1.5)


if __name__ == "__main__":
    asyncio.run(main())
