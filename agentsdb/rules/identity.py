"""The one normalization of the identifiers users look things up by: emails and handles.

An identifier is compared, stored and kept unique in one form, its **identity form**: the text
with surrounding whitespace removed, then NFKC-normalized, case-folded and NFKC-normalized again
(Unicode's ``NFKC_Casefold`` for identifier matching, UAX #31). So spellings a reader cannot tell
apart are one identifier: ``"Kate@Example.com"``, ``"\\u212aate@example.com"`` (KELVIN SIGN),
the fullwidth ``"\\uff4bate@example.com"``, and the NFC and NFD spellings of ``"josé@example.com"``
all name one user, stored as ``"kate@example.com"`` / ``"josé@example.com"`` (NFC).

Handles additionally lose one leading ``@`` and must then be dot-separated labels of ASCII
letters, digits, ``-`` and ``_`` (as Bluesky handles are). The same functions serve the models
(on store), the repositories (on lookup) and the backfill jobs, so the unique indexes on
``users.email`` and ``agents.handle`` enforce uniqueness of the identity form.
"""

from __future__ import annotations

import re
import unicodedata

from agentsdb.errors import ValidationError
from agentsdb.rules.text import MAX_EMAIL_LENGTH, MAX_HANDLE_LENGTH, check_text, text_problem

_HANDLE = re.compile(
    r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")

HANDLE_PROBLEM = (
    "must be a handle such as 'alice.bsky.social': dot-separated labels of letters, digits, "
    f"'-' and '_', at most {MAX_HANDLE_LENGTH} characters"
)
EMAIL_PROBLEM = (
    f"must be an email address such as 'ada@example.com', at most {MAX_EMAIL_LENGTH} characters"
)


def identity_form(value: str) -> str:
    """``value`` trimmed, NFKC-normalized, case-folded and NFKC-normalized again."""
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def normalize_handle(value: str) -> str:
    """A handle in its identity form, without a leading ``@``; ValueError when it is not one.

    ``"@Alice"``, ``" alice "`` and ``"\\uff21LICE"`` (fullwidth A) are all ``"alice"``.
    """
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    # Bounded before normalizing: NFKC can expand text, and a huge value needs no more work.
    handle = identity_form(value[: 4 * MAX_HANDLE_LENGTH]).removeprefix("@")
    if len(value) > 4 * MAX_HANDLE_LENGTH or len(handle) > MAX_HANDLE_LENGTH:
        raise ValueError(HANDLE_PROBLEM)
    if not _HANDLE.match(handle):
        raise ValueError(HANDLE_PROBLEM)
    return handle


def normalize_email(value: str) -> str:
    """An email address in its identity form; ValueError when it is not one."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    email = identity_form(value[: 4 * MAX_EMAIL_LENGTH])
    if len(value) > 4 * MAX_EMAIL_LENGTH or len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(EMAIL_PROBLEM)
    if not _EMAIL.match(email):
        raise ValueError(EMAIL_PROBLEM)
    return email


def handle_argument(title: str, field: str, value: object) -> str:
    """A handle passed to a lookup, in its identity form; ValidationError when it is not one."""
    text = check_text(title, field, value)
    try:
        return normalize_handle(text)
    except ValueError as error:
        raise ValidationError.refuse(title, field, value, str(error)) from error


def email_argument(title: str, field: str, value: object) -> str:
    """An email passed to a lookup, in its identity form; ValidationError when it is not one."""
    text = check_text(title, field, value)
    try:
        return normalize_email(text)
    except ValueError as error:
        raise ValidationError.refuse(title, field, value, str(error)) from error


__all__ = [
    "EMAIL_PROBLEM",
    "HANDLE_PROBLEM",
    "email_argument",
    "handle_argument",
    "identity_form",
    "normalize_email",
    "normalize_handle",
]
