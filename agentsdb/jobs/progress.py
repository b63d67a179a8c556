"""The terminal progress bar (tqdm): rows/s and ETA on a terminal, silent anywhere else."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints


class Progress:
    """Counts source rows as they are read; draws only when ``stream`` is a terminal."""

    def __init__(self, total: int | None, description: str, stream: TextIO | None = None) -> None:
        out = sys.stderr if stream is None else stream
        self._bar: Any = tqdm.tqdm(
            total=total,
            desc=description,
            unit="rows",
            unit_scale=True,
            file=out,
            disable=not out.isatty(),
            leave=False,
        )

    def advance(self, rows: int) -> None:
        """Count ``rows`` more rows done."""
        self._bar.update(rows)

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()


__all__ = ["Progress"]
