"""What the searches of memories and messages share: checking the input, one ranked page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentsdb.db.base import Database, Row
from agentsdb.db.text_search import text_search_of
from agentsdb.repositories._base import check_limit
from agentsdb.rules.search import decode_search_cursor, encode_search_cursor, search_terms


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A checked search: the engine's query text (None: nothing to find) and the page bounds."""

    query: str | None
    after: tuple[float, str] | None
    limit: int


def search_request(
    db: Database, title: str, text: object, limit: int, after: object
) -> SearchRequest:
    """Check the text, limit and cursor the same way on every backend, before any SQL runs."""
    terms = search_terms(title, "text", text)
    checked_limit = check_limit(limit)
    cursor = decode_search_cursor(title, "after", after)
    query = text_search_of(db).query_text(terms) if terms else None
    return SearchRequest(query, cursor, checked_limit)


async def ranked_rows(
    db: Database, sql: str, params: dict[str, Any], limit: int
) -> tuple[list[tuple[Row, float]], bool]:
    """Up to ``limit`` rows of a ranked search with their scores, and whether more follow."""
    rows = await db.fetch_all(sql, {**params, "limit": limit + 1})
    more = len(rows) > limit
    scored = []
    for row in rows[:limit]:
        score = float(row.pop("score"))
        scored.append((row, score))
    return scored, more


def next_cursor(scored: list[tuple[Row, float]], more: bool) -> str | None:
    """The cursor after the last row of a page that has more after it."""
    if not more or not scored:
        return None
    row, score = scored[-1]
    return encode_search_cursor(score, row["id"])


__all__ = ["SearchRequest", "next_cursor", "ranked_rows", "search_request"]
