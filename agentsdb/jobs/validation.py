"""Validation after a run: row-count parity per table, orphans, and the skips that explain gaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentsdb.db.base import Database
from agentsdb.jobs.report import JobReport, format_rows


@dataclass(frozen=True)
class Parity:
    """Source rows against target rows for one table; skipped rows explain the difference."""

    table: str
    source_rows: int
    target_rows: int
    skipped: int

    @property
    def ok(self) -> bool:
        """True when every source row is in the target or was skipped for a reason."""
        return self.source_rows == self.target_rows + self.skipped


@dataclass(frozen=True)
class Orphans:
    """Rows whose parent is missing, found by one check."""

    check: str
    rows: int

    @property
    def ok(self) -> bool:
        """True when there are none."""
        return self.rows == 0


@dataclass
class ValidationReport:
    """What :func:`agentsdb.jobs.validate_job` found."""

    job: str
    parity: list[Parity] = field(default_factory=list)
    orphans: list[Orphans] = field(default_factory=list)
    skips: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every table is at parity and no check found orphans."""
        return all(p.ok for p in self.parity) and all(o.ok for o in self.orphans)

    def format(self) -> str:
        """A printable table of the findings."""
        rows: list[tuple[str, ...]] = [("TABLE", "SOURCE", "TARGET", "SKIPPED", "PARITY")]
        for p in self.parity:
            rows.append(
                (
                    p.table,
                    str(p.source_rows),
                    str(p.target_rows),
                    str(p.skipped),
                    "ok" if p.ok else "MISMATCH",
                )
            )
        lines = format_rows(rows)
        lines.append("")
        lines.extend(
            format_rows([("ORPHAN CHECK", "ROWS"), *((o.check, str(o.rows)) for o in self.orphans)])
        )
        for table, reasons in sorted(self.skips.items()):
            for reason, n in sorted(reasons.items()):
                lines.append(f"  skipped {n} {table}: {reason}")
        lines.append(f"{self.job}: {'valid' if self.ok else 'INVALID'}.")
        return "\n".join(lines)


async def count(db: Database, sql: str) -> int:
    """The ``n`` column of a one-row COUNT query."""
    row = await db.fetch_one(sql)
    return 0 if row is None else int(row["n"])


def skipped_of(report: JobReport | None, table: str) -> int:
    """Rows of ``table`` the last run skipped (0 when it never ran)."""
    if report is None or table not in report.tables:
        return 0
    return report.tables[table].skipped_total


def skips_of(report: JobReport | None) -> dict[str, dict[str, int]]:
    """Every skip reason of the last run, per table."""
    if report is None:
        return {}
    return {name: dict(counts.skipped) for name, counts in report.tables.items() if counts.skipped}


__all__ = ["Orphans", "Parity", "ValidationReport", "count", "skipped_of", "skips_of"]
