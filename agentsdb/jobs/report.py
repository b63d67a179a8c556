"""What a job run did (or, dry, would do): rows created, updated, unchanged, skipped per table."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TableCounts:
    """Counts for one target table; ``skipped`` maps a reason to how many rows it stopped."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        """Rows skipped for any reason."""
        return sum(self.skipped.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (reasons sorted, so equal counts give equal text)."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": dict(sorted(self.skipped.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableCounts:
        """The counts :meth:`to_json` wrote."""
        return cls(
            created=int(data.get("created", 0)),
            updated=int(data.get("updated", 0)),
            unchanged=int(data.get("unchanged", 0)),
            skipped=Counter({str(k): int(v) for k, v in data.get("skipped", {}).items()}),
        )


@dataclass
class JobReport:
    """The report of one run: per-table counts, rows read from the source, and the mode."""

    job: str
    dry_run: bool = False
    rows_read: int = 0
    tables: dict[str, TableCounts] = field(default_factory=dict)

    def table(self, name: str) -> TableCounts:
        """The counts of ``name``, created empty on first use."""
        counts = self.tables.get(name)
        if counts is None:
            counts = self.tables[name] = TableCounts()
        return counts

    def created(self, table: str, n: int = 1) -> None:
        """Count rows created in ``table``."""
        self.table(table).created += n

    def updated(self, table: str, n: int = 1) -> None:
        """Count rows updated in ``table``."""
        self.table(table).updated += n

    def unchanged(self, table: str, n: int = 1) -> None:
        """Count rows already there as they should be."""
        self.table(table).unchanged += n

    def skipped(self, table: str, reason: str, n: int = 1) -> None:
        """Count rows not written to ``table``, and why."""
        self.table(table).skipped[reason] += n

    def merge(self, other: JobReport) -> None:
        """Add another report's counts (a batch's) to this one."""
        self.rows_read += other.rows_read
        for name, counts in other.tables.items():
            mine = self.table(name)
            mine.created += counts.created
            mine.updated += counts.updated
            mine.unchanged += counts.unchanged
            mine.skipped.update(counts.skipped)

    def counts(self) -> dict[str, Any]:
        """Everything but the mode: a dry run's counts equal the real run's."""
        return {
            "rows_read": self.rows_read,
            "tables": {name: self.tables[name].to_json() for name in sorted(self.tables)},
        }

    def to_json_text(self) -> str:
        """The counts as JSON text, as stored in the checkpoint."""
        return json.dumps(self.counts(), sort_keys=True)

    @classmethod
    def from_json(cls, job: str, data: dict[str, Any] | str | None) -> JobReport:
        """A report from stored counts (text on SQLite, decoded JSON on PostgreSQL)."""
        if isinstance(data, str):
            data = json.loads(data)
        report = cls(job=job)
        if not isinstance(data, dict):
            return report
        report.rows_read = int(data.get("rows_read", 0))
        for name, counts in data.get("tables", {}).items():
            report.tables[name] = TableCounts.from_json(counts)
        return report

    def format(self) -> str:
        """A table of the counts, and one line per skip reason."""
        rows: list[tuple[str, ...]] = [("TABLE", "CREATED", "UPDATED", "UNCHANGED", "SKIPPED")]
        for name in sorted(self.tables):
            c = self.tables[name]
            rows.append(
                (name, str(c.created), str(c.updated), str(c.unchanged), str(c.skipped_total))
            )
        lines = format_rows(rows)
        for name in sorted(self.tables):
            for reason, n in sorted(self.tables[name].skipped.items()):
                lines.append(f"  skipped {n} {name}: {reason}")
        mode = "would read" if self.dry_run else "read"
        lines.append(f"{self.job}: {mode} {self.rows_read} source rows.")
        return "\n".join(lines)


def format_rows(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as aligned text columns: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


__all__ = ["JobReport", "TableCounts", "format_rows"]
