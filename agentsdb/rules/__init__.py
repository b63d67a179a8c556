"""The input rules, each stated once: what text the library stores, and how identifiers compare.

Models, repositories and jobs all call these; nothing restates them.

* :mod:`agentsdb.rules.quoting` — how an error message quotes a value it refuses.
* :mod:`agentsdb.rules.text` — text every backend stores alike (no NUL, no lone surrogates)
  and the maximum lengths of indexed columns.
* :mod:`agentsdb.rules.identity` — the one normalization of emails and handles.
* :mod:`agentsdb.rules.content` — the content hashes of messages and embedded texts.
* :mod:`agentsdb.rules.timestamps` — the one stored timestamp format, legacy times, clocks.
* :mod:`agentsdb.rules.ids` — new UUIDv7 ids (the rule of what an id is, ``key_problem``, is in
  :mod:`agentsdb.rules.text` with the other limits).
"""

from __future__ import annotations
