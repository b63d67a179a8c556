"""The event store keeps no index on ``events.type``: every append paid for it, and reads by type
were slower with it than without.

``events_type_position`` (migration 011) was one more B-tree to write at every append (on SQLite
one more page in the WAL at each commit, about a fifth of an append's pages). ``read_all`` with
``types`` names several types at once (a projection's), and for ``type IN (…) ORDER BY position
LIMIT n`` SQLite used the index to read every remaining event of those types and sort them, for
each page: a catch-up over the whole log took time growing with the square of its length. Without
the index the read walks the log in position order and stops once the page is full, so a
catch-up reads each event once. A reader filtering on a type that few events have still reads
past the others; that is what every ``read_all`` reader pays anyway.

Going down recreates the index.
"""

from agentsdb.migration import Migration

_UP = ["DROP INDEX events_type_position"]
_DOWN = ["CREATE INDEX events_type_position ON events (type, position)"]

migration = Migration(
    id="015",
    description="drop events type index",
    created_at="2026-12-03",
    up={"sqlite": _UP, "postgresql": _UP},
    down={"sqlite": _DOWN, "postgresql": _DOWN},
)
