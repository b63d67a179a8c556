"""How a statement is quoted in an error message, the same way on every backend."""

from __future__ import annotations

#: The most characters of a statement an error message shows.
SQL_SHOWN = 200


def shorten_sql(sql: str | None) -> str:
    """The statement on one line, cut to a length that fits an error message ("" for None)."""
    if sql is None:
        return ""
    flat = " ".join(sql.split())
    return flat if len(flat) <= SQL_SHOWN else flat[:SQL_SHOWN] + "…"


def with_sql(message: str, sql: str | None) -> str:
    """``message`` followed by the shortened statement it is about, if any."""
    shown = shorten_sql(sql)
    return f"{message} (in: {shown})" if shown else message


__all__ = ["SQL_SHOWN", "shorten_sql", "with_sql"]
