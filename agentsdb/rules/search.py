"""What a search accepts: plain text, cut into terms the same way on every backend.

Search text is what a person types, never a query language: quotes, ``AND``, ``*``, ``NEAR(``
and parentheses are ordinary characters. Each backend turns the terms into its engine's query
with every term quoted (see :mod:`agentsdb.db.text_search`), so any text gives hits or an empty
page and never a syntax error. A hit contains every term (terms are ANDed).

The text obeys the rules of :mod:`agentsdb.rules.text` (no NUL, no lone surrogates) and is at
most :data:`MAX_SEARCH_TEXT_LENGTH` characters.
"""

from __future__ import annotations

import math

from agentsdb.errors import ValidationError
from agentsdb.rules.text import MAX_KEY_LENGTH, check_text

#: The longest search text, in characters.
MAX_SEARCH_TEXT_LENGTH = 1_000

#: The most terms a search uses; further words are ignored (a query is not a document).
MAX_SEARCH_TERMS = 64

_CURSOR_PROBLEM = "is not a cursor from a search page (pass the page's `next` unchanged)"


def search_terms(title: str, field: str, text: object) -> list[str]:
    """The terms of ``text``: its whitespace-separated words, at most :data:`MAX_SEARCH_TERMS`.

    ValidationError when ``text`` is not storable text of at most the maximum length. Blank
    text has no terms (the search then finds nothing).
    """
    value = check_text(title, field, text, max_length=MAX_SEARCH_TEXT_LENGTH)
    return value.split()[:MAX_SEARCH_TERMS]


def encode_search_cursor(score: float, key: str | int) -> str:
    """The cursor after a hit: its score and key. ``repr`` of a float reads back exactly."""
    return f"{score!r}/{key}"


def decode_search_cursor(title: str, field: str, cursor: object) -> tuple[float, str] | None:
    """``(score, key text)`` of a cursor made by :func:`encode_search_cursor`, or None for None.

    ValidationError when the cursor is not one.
    """
    if cursor is None:
        return None
    value = check_text(title, field, cursor, max_length=MAX_KEY_LENGTH + 32, min_length=1)
    score_text, slash, key = value.partition("/")
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    if not slash or not key or not math.isfinite(score):
        raise ValidationError.refuse(title, field, cursor, _CURSOR_PROBLEM)
    return score, key


def int_cursor_key(title: str, field: str, cursor: object, key: str) -> int:
    """The integer key of a decoded cursor; ValidationError when it is not a positive integer."""
    if not key.isascii() or not key.isdigit() or len(key) > 19:
        raise ValidationError.refuse(title, field, cursor, _CURSOR_PROBLEM)
    return int(key)


__all__ = [
    "MAX_SEARCH_TERMS",
    "MAX_SEARCH_TEXT_LENGTH",
    "decode_search_cursor",
    "encode_search_cursor",
    "int_cursor_key",
    "search_terms",
]
