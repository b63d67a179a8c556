"""How an error message quotes a value a user passed in: a short prefix, never the whole value.

A 1 MB id must not give a 1 MB message (nor a log line of that size), so every message that
shows user input goes through :func:`short_repr`.
"""

from __future__ import annotations

#: How many characters of a refused value a message shows.
SHOWN_CHARACTERS = 40


def short_repr(value: object) -> str:
    """``repr(value)``, cut to its first :data:`SHOWN_CHARACTERS` characters when longer.

    A cut text says how long the whole was: ``'aaaa…' (1000000 characters)``.
    """
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}… ({len(value)} characters)"
    if isinstance(value, bytes | bytearray) and len(value) > SHOWN_CHARACTERS:
        return f"{bytes(value[:SHOWN_CHARACTERS])!r}… ({len(value)} bytes)"
    shown = repr(value)
    if len(shown) > 2 * SHOWN_CHARACTERS:
        return f"{shown[: 2 * SHOWN_CHARACTERS]}… (a {type(value).__name__})"
    return shown


__all__ = ["SHOWN_CHARACTERS", "short_repr"]
