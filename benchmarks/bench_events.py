"""The event store and the Agent aggregate: agentsdb beside raw sqlite3 and ``eventsourcing``.

    pip install -e ".[bench]"
    python benchmarks/bench_events.py            # the full run
    python benchmarks/bench_events.py --quick    # a smaller run, for a smoke test
    python benchmarks/bench_events.py --cases commands --repeat 7   # one case only
    python benchmarks/bench_events.py --cases commands --repeat 15 --rounds 20   # a long run

Every case runs on a fresh temp SQLite file in WAL mode with ``synchronous=NORMAL`` on all three
sides (eventsourcing syncs every commit by default; here its connections are switched to NORMAL
so that durability matches). Each figure is the best of ``--repeat`` runs; the command case's
verdict is the median of its rounds' paired ratios (each round runs every variant once). The
cases:

* **command**: load an agent, decide (a preferences change), append the event: one at a time,
  round-robin over 100 agents whose streams stay short. agentsdb runs it through
  ``AgentStore.execute`` with and without its inline read-model projection (eventsourcing has
  none, so "no projection" is the like-for-like figure), and with and without its cache of
  stored states (``cache_size``; with it, a command decides on the cached state and appends
  with the cached version as expectation, without a read first). eventsourcing runs
  ``repository.get`` + ``save`` without a cache, with its cache (``AGGREGATE_CACHE_MAXSIZE``)
  fast-forwarding each cached aggregate by a read of newer events (its default), and with its
  cache not fast-forwarding (``AGGREGATE_CACHE_FASTFORWARD=n``: no read before deciding).
  Like for like is agentsdb's cache against eventsourcing's fast-forwarding one: both stay right
  when another writer appends (agentsdb's append checks the stream's head and reloads when it
  moved; eventsourcing reads the newer events first). Without fast-forward, eventsourcing's
  cache keeps a stale aggregate whose saves then fail every time, which the run shows
  (``peer_stale_cache``). Raw sqlite3 selects the stream's rows, decodes their JSON and inserts
  one row under a version guard, in one transaction; "append only" is that insert and its
  commit alone, the floor of a command that reads nothing first. The variants run in turn
  within each repeat, so a change in the machine's load hits them alike.
* **load 10,000 events**: one agent whose stream holds 10,000 events (sessions that start,
  suspend on a tool call, resume and complete). agentsdb reads them (``EventStore.read_stream``)
  and replays them into the aggregate (``AgentStore.load``); the raw baseline is the same SELECT
  and ``json.loads`` of every payload, timed right after each of agentsdb's (the ratio is the
  median of those pairs'); eventsourcing loads its own aggregate with the same number of
  events.
* **load from a snapshot**: the same agent with a snapshot at its newest version.
* **catch-up**: read 100,000 events in pages of 1,000 by position (``EventStore.read_all``);
  raw sqlite3 runs the same keyset query and decodes the JSON; eventsourcing pages its
  notification log.

Each case is a module of ``event_bench`` (beside this script), with what they share in
``event_bench.common`` and the eventsourcing side in ``event_bench.peer``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os

CASES = ("commands", "loads", "catch-up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best is shown)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="commands per agent in each run of the command case (default 10; 5 with --quick)",
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="which cases to run, comma-separated (default: all three)",
    )
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    unknown = cases - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    if args.repeat < 1 or (args.rounds is not None and args.rounds < 1):
        parser.error("--repeat and --rounds must be at least 1")
    if importlib.util.find_spec("eventsourcing") is None:
        raise SystemExit('the peer needs the bench extra: pip install -e ".[bench]"')
    # Imported here, once the peer is known to be installed (the cases import it).
    from event_bench.catch_up import report_catch_up
    from event_bench.commands import report_commands
    from event_bench.common import SETTINGS, Workdir
    from event_bench.loads import report_loads

    agents, rounds = (20, 5) if args.quick else (100, 10)
    rounds = args.rounds or rounds
    stream_size = 1_000 if args.quick else 10_000
    catch_up = 10_000 if args.quick else 100_000
    repeat = args.repeat
    work = Workdir()
    try:
        print(f"settings: {SETTINGS}; best of {repeat}; load average {os.getloadavg()[0]:.1f}")
        if "commands" in cases:
            report_commands(work, agents, rounds, repeat)
        if "loads" in cases:
            report_loads(work, stream_size, repeat)
        if "catch-up" in cases:
            report_catch_up(work, catch_up, repeat)
    finally:
        work.remove()


if __name__ == "__main__":
    main()
