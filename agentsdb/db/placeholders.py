"""Translate agentsdb's ``:name`` placeholders into asyncpg's ``$1, $2, ...``.

Every SQL string in agentsdb uses ``:name`` parameters with a mapping. PostgreSQL's wire protocol
numbers its parameters instead, so the PostgreSQL backend rewrites each statement once
(:func:`translate` is cached per SQL string) and binds each call's mapping by position.

The scanner follows PostgreSQL's lexer closely enough to leave alone everything that is not a
placeholder:

* string constants ``'it''s :not'``, escape strings ``E'\\' :not'`` (backslash escapes), and
  dollar-quoted strings ``$$ :not $$`` / ``$tag$ :not $tag$``;
* quoted identifiers ``"a:b"``;
* comments, ``-- :not`` to the end of the line and ``/* :not /* nested */ */``;
* ``::`` casts: ``x::int`` stays as it is, ``:id::int`` becomes ``$1::int``;
* a colon right after a name or a number, as in array slices ``a[1:2]`` and ``a[lo:hi]``
  (write ``a[1: :hi]`` when the bound is a parameter), and a colon not followed by a letter or
  underscore (``a[1:2]``, ``:=``).

The same name used twice maps to the same ``$n``. Positional ``$1`` parameters in the input are
rejected: the two styles cannot be mixed. Backslashes in plain ``'...'`` strings are taken as
ordinary characters, which is PostgreSQL's behaviour since ``standard_conforming_strings``
became the default (9.1).

While it scans, the translator also notes what the backend needs to know about a statement:
whether it has a ``RETURNING`` clause, and whether it may change session state that must not
leak to the next user of a pooled connection (``SET``, advisory locks, ``LISTEN``...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentsdb.db.sql_text import shorten_sql
from agentsdb.errors import ConfigurationError

_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# PostgreSQL identifiers and keywords: letters (any alphabet), digits, underscores and dollar
# signs after the first character. Consuming them whole keeps "a$b$" from looking like a
# dollar quote and lets "E'...'" be recognised as an escape string.
_WORD = re.compile(r"[^\W\d]\w*(?:\$\w*)*")
_DOLLAR_QUOTE = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_POSITIONAL = re.compile(r"\$\d+")

# Leading keywords and functions whose effect outlives the statement (or its transaction) on
# the connection. A statement that uses one marks its pooled connection for a full reset.
_SESSION_KEYWORDS = frozenset(
    {"SET", "RESET", "LISTEN", "UNLISTEN", "DECLARE", "PREPARE", "LOAD", "DISCARD"}
)
_SESSION_FUNCTIONS = frozenset(
    {
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "set_config",
    }
)
# A statement counts as a read when it starts with one of these words and uses none of the
# writing words or side-effect functions below (outside literals and comments). A function of
# the application's own that writes is not seen: such a statement belongs in execute().
_READ_VERBS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW"})
_WRITING_WORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "FOR", "COPY", "CALL", "DO", "NOTIFY"}
)
_WRITING_FUNCTIONS = frozenset(
    {
        "nextval",
        "setval",
        "pg_notify",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared",
        "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "dblink_exec",
    }
)


@dataclass(frozen=True, slots=True)
class TranslatedSQL:
    """A statement rewritten for asyncpg, with what the backend needs to know about it."""

    #: The statement with ``$n`` placeholders.
    sql: str
    #: The parameter name of each ``$n``, in order (``names[0]`` is ``$1``).
    names: tuple[str, ...]
    #: True when a ``RETURNING`` clause appears outside literals and comments.
    returning: bool = False
    #: True when the statement may change session state (settings, advisory locks, ...).
    touches_session: bool = False
    #: True for a query that changes nothing: a SELECT, WITH, VALUES, TABLE or SHOW without
    #: INSERT/UPDATE/DELETE/MERGE, SELECT INTO, FOR UPDATE/SHARE or a known side-effect function
    #: (nextval, advisory locks, ...). Such a statement may be run again after a lost connection.
    read_only: bool = False
    #: The statement as written, for error messages.
    original: str = ""

    def bind(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The positional arguments for one call; a missing name raises ConfigurationError."""
        if not self.names:
            return []
        if params is None:
            raise ConfigurationError(
                f"the statement needs the parameter(s) {', '.join(self.names)} but no "
                f"parameters were given: {shorten_sql(self.original)}"
            )
        try:
            return [params[name] for name in self.names]
        except KeyError:
            missing = [name for name in self.names if name not in params]
            raise ConfigurationError(
                f"missing SQL parameter(s) {', '.join(repr(name) for name in missing)} "
                f"for: {shorten_sql(self.original)}"
            ) from None


def _end_of_quoted(sql: str, start: int, quote: str, *, backslash: bool = False) -> int:
    """Index just past the literal opened at ``start``; doubled quotes (and, in E'' strings,
    backslash escapes) stay inside. An unterminated literal runs to the end."""
    i = start + 1
    n = len(sql)
    while i < n:
        c = sql[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _end_of_block_comment(sql: str, start: int) -> int:
    """Index just past the ``/* ... */`` comment opened at ``start``; they nest in PostgreSQL."""
    depth = 1
    i = start + 2
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _is_word_character(c: str) -> bool:
    return c.isalnum() or c == "_" or c == "$"


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> TranslatedSQL:
    """Rewrite ``:name`` placeholders as ``$n`` (cached: each distinct string is scanned once).

    Raises ConfigurationError when the statement already uses positional ``$n`` parameters.
    """
    pieces: list[str] = []
    numbers: dict[str, int] = {}
    copied = 0  # sql[copied:i] has not been added to pieces yet
    returning = False
    touches_session = False
    writes = False
    first_word: str | None = None
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            i = _end_of_quoted(sql, i, "'")
        elif c == '"':
            i = _end_of_quoted(sql, i, '"')
        elif c == "-" and sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif c == "/" and sql.startswith("/*", i):
            i = _end_of_block_comment(sql, i)
        elif c == "$":
            quote = _DOLLAR_QUOTE.match(sql, i)
            if quote is not None:
                end = sql.find(quote.group(), quote.end())
                i = n if end < 0 else end + len(quote.group())
            elif (positional := _POSITIONAL.match(sql, i)) is not None:
                raise ConfigurationError(
                    f"positional parameter {positional.group()} in SQL for agentsdb; write "
                    f":name placeholders and pass a mapping: {shorten_sql(sql)}"
                )
            else:
                i += 1
        elif c == ":":
            if sql.startswith("::", i):
                i += 2  # a cast; the type name after it is read as an ordinary word
                continue
            name = _PARAMETER_NAME.match(sql, i + 1)
            if name is None or (i > 0 and _is_word_character(sql[i - 1])):
                i += 1
                continue
            number = numbers.setdefault(name.group(), len(numbers) + 1)
            pieces.append(sql[copied:i])
            pieces.append(f"${number}")
            i = copied = name.end()
        elif c.isalpha() or c == "_":
            word = _WORD.match(sql, i)
            end = word.end() if word is not None else i + 1
            text = sql[i:end]
            i = end
            if text in ("E", "e") and i < n and sql[i] == "'":
                i = _end_of_quoted(sql, i, "'", backslash=True)
                continue
            upper = text.upper()
            if first_word is None:
                first_word = upper
                touches_session = upper in _SESSION_KEYWORDS
            if upper == "RETURNING":
                returning = True
            elif not touches_session and text.lower() in _SESSION_FUNCTIONS:
                touches_session = True
            if upper in _WRITING_WORDS or text.lower() in _WRITING_FUNCTIONS:
                writes = True
        else:
            i += 1
    read_only = first_word in _READ_VERBS and not (writes or returning or touches_session)
    if numbers:
        pieces.append(sql[copied:])
        text = "".join(pieces)
    else:
        text = sql
    return TranslatedSQL(text, tuple(numbers), returning, touches_session, read_only, sql)


__all__ = ["TranslatedSQL", "translate"]
