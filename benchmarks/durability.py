"""The durability every SQLite benchmark runs both sides at, and how the scripts print it.

SQLite's ``PRAGMA synchronous`` decides how often a commit waits for the disk. In WAL mode FULL
syncs the log at every commit (on this VM about 2.5 ms a commit, so about 400 commits/s at
best), NORMAL only at checkpoints. A figure measured at NORMAL beside a peer running at FULL
measures the disk, not the code: every comparison here runs both sides at the same level and
says which.
"""

from __future__ import annotations

import argparse
import sqlite3

#: The levels a script runs at, in this order, unless ``--synchronous`` says otherwise. FULL
#: first: it is what the peers (yoyo, SQLiteSession) run at as shipped.
DEFAULT_LEVELS = ("FULL", "NORMAL")
_ACCEPTED = ("OFF", "NORMAL", "FULL", "EXTRA")


def add_argument(parser: argparse.ArgumentParser) -> None:
    """``--synchronous full,normal``: the levels to run every write comparison at."""
    parser.add_argument(
        "--synchronous",
        type=levels,
        default=list(DEFAULT_LEVELS),
        help="comma-separated PRAGMA synchronous levels, each run on every side "
        f"(default: {','.join(level.lower() for level in DEFAULT_LEVELS)})",
    )


def levels(text: str) -> list[str]:
    chosen = [part.strip().upper() for part in text.split(",") if part.strip()]
    bad = [level for level in chosen if level not in _ACCEPTED]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"levels are {', '.join(level.lower() for level in _ACCEPTED)}; got {text!r}"
        )
    return chosen


def set_level(conn: sqlite3.Connection, level: str) -> None:
    """Put a plain sqlite3 connection at ``level`` (it must be one of the accepted names)."""
    assert level in _ACCEPTED, level
    conn.execute(f"PRAGMA synchronous = {level}")


def level_of(conn: sqlite3.Connection) -> str:
    """The level a connection really runs at, read back from SQLite."""
    return _ACCEPTED_BY_NUMBER[int(conn.execute("PRAGMA synchronous").fetchone()[0])]


_ACCEPTED_BY_NUMBER = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def on_every_side(level: str) -> str:
    """What a heading prints beside its figures."""
    return f"synchronous={level} on every side"
