"""Full-text search, the capability: each backend's ranked hits for a list of plain terms.

Upper layers ask :func:`text_search_of` for the database's :class:`TextSearch` and compose its
*hits* relations into their queries; they never see FTS5 or ``tsvector``. Both relations take
one parameter, ``:query`` (from :meth:`TextSearch.query_text`), and return a key and a
``score``: higher is more relevant. Scores rank the hits of one search; they are not
comparable across backends or between databases.

The index behind them is created by built-in migration 013.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentsdb.db.base import Database
from agentsdb.errors import UnsupportedOperationError


def _fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression that requires every term, each a quoted string.

    Inside double quotes FTS5 reads nothing as syntax (a quote is written twice), so operators,
    ``*``, ``NEAR(`` and parentheses are just text; a term with no word characters matches as an
    empty phrase, which FTS5 ignores.
    """
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _plain_query(terms: Sequence[str]) -> str:
    """The text for ``plainto_tsquery``, which reads no operators: the terms, space-separated."""
    return " ".join(terms)


@dataclass(frozen=True, slots=True)
class TextSearch:
    """One backend's full-text search.

    * ``memory_hits``: SQL of a relation ``(memory_id, score)``: the memories matching
      ``:query``, every agent's.
    * ``message_hits``: SQL of a relation ``(message_id, score)``: the messages matching it.
    * ``query_text``: turns plain terms into the ``:query`` parameter, safely quoted.
    """

    memory_hits: str
    message_hits: str
    query_text: Callable[[Sequence[str]], str]


#: SQLite and libSQL (sqld): FTS5. ``bm25`` is lower for better matches, so the score is its
#: negation; a memory's name counts twice as much as its description or content.
FTS5 = TextSearch(
    memory_hits="""SELECT k.memory_id AS memory_id,
        -bm25(memories_fts, 2.0, 1.0, 1.0) AS score
    FROM memories_fts JOIN memory_search_rows AS k ON k.row = memories_fts.rowid
    WHERE memories_fts MATCH :query""",
    message_hits="""SELECT messages_fts.rowid AS message_id, -bm25(messages_fts) AS score
    FROM messages_fts
    WHERE messages_fts MATCH :query""",
    query_text=_fts5_query,
)

#: PostgreSQL: the stored ``search_vector`` columns (configuration 'simple'), ranked by
#: ``ts_rank_cd`` (cover density) as float8, so a score reads back and compares exactly.
TSVECTOR = TextSearch(
    memory_hits="""SELECT memories.id AS memory_id,
        ts_rank_cd(memories.search_vector, q)::float8 AS score
    FROM memories, plainto_tsquery('simple', :query) AS q
    WHERE memories.search_vector @@ q""",
    message_hits="""SELECT messages.id AS message_id,
        ts_rank_cd(messages.search_vector, q)::float8 AS score
    FROM messages, plainto_tsquery('simple', :query) AS q
    WHERE messages.search_vector @@ q""",
    query_text=_plain_query,
)

_BY_DIALECT = {"sqlite": FTS5, "postgresql": TSVECTOR}


def text_search_of(db: Database) -> TextSearch:
    """The full-text search of ``db``'s engine; UnsupportedOperationError when it has none."""
    search = _BY_DIALECT.get(db.dialect)
    if search is None:
        raise UnsupportedOperationError(
            f"full-text search is not available on {db.dialect} databases ({db.url})"
        )
    return search


__all__ = ["FTS5", "TSVECTOR", "TextSearch", "text_search_of"]
