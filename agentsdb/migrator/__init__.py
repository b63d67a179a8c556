"""The migration engine: plan, validate, apply, roll back, rehearse and repair migrations.

``Migrator`` is loaded on first use, so the command line's no-op ``migrate`` can read the plan
and tracking modules of this package without the engine (see ``agentsdb/cli_noop.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentsdb.migrator.engine import Migrator


def __getattr__(name: str) -> Any:
    if name == "Migrator":
        from agentsdb.migrator.engine import Migrator

        return Migrator
    raise AttributeError(f"module 'agentsdb.migrator' has no attribute {name!r}")


__all__ = ["Migrator"]
