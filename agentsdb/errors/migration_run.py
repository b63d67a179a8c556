""":class:`MigrationError`: a migration failed while a run applied, rehearsed or rolled it back.

Its own module because it names the Migrator's results: those import the migration errors of
:mod:`agentsdb.errors.migration` (through :mod:`agentsdb.migration`), never this module, so
naming them here closes no import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentsdb.errors.base import AgentsDBError

if TYPE_CHECKING:
    from agentsdb.migrator.results import MigrationResult


class MigrationError(AgentsDBError):
    """A migration failed while applying, rehearsing or rolling back.

    ``results`` holds the results of the migrations handled before it plus the failed one (its
    ``error`` says why). The failed migration was rolled back and not recorded.
    """

    def __init__(self, message: str, results: Sequence[MigrationResult]) -> None:
        self.results = list(results)
        super().__init__(message)

    @property
    def failed(self) -> MigrationResult | None:
        """The result of the migration that failed, when there is one."""
        for result in self.results:
            if not result.success:
                return result
        return None
