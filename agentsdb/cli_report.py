"""What the migration commands print: lines of text, or with ``--json`` one JSON object.

With ``--json`` stdout holds exactly one JSON object, also when the command fails; its keys are
listed in the README ("Command line"). Every object has ``command`` (the command's name) and
``ok`` (false when the command exits 1); a failure adds ``error``, the message also printed on
stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentsdb.migrator.results import MigrationOutcome, MigrationResult

if TYPE_CHECKING:  # loaded by the rollback command only
    from agentsdb.migrator.rollback_preview import Loss, RollbackPreview


#: The word the commands print for each outcome (``--json``'s ``outcome``, see the README).
_WORDS = {
    MigrationOutcome.APPLIED: "applied",
    MigrationOutcome.ROLLED_BACK: "rolled back",
    MigrationOutcome.PLANNED: "would apply",
    MigrationOutcome.REHEARSED: "rehearsed",
    MigrationOutcome.NOT_REHEARSED: "skipped",
    MigrationOutcome.FAILED: "failed",
    MigrationOutcome.LEFT_DIRTY: "failed",
}


def outcome(result: MigrationResult) -> str:
    """One word (or two) for what happened to a migration."""
    return _WORDS[result.outcome or MigrationOutcome.FAILED]


def result_json(result: MigrationResult) -> dict[str, Any]:
    """A migration result as JSON: id, description, direction, outcome, time, note, error."""
    return {
        "id": result.migration.id,
        "description": result.migration.description,
        "direction": result.direction,
        "outcome": outcome(result),
        "execution_time_ms": result.execution_time_ms,
        "note": result.note,
        "error": result.error,
    }


def _result_line(result: MigrationResult) -> str | None:
    migration = result.migration
    took = f"({result.execution_time_ms:.1f} ms)"
    match outcome(result):
        case "failed":
            return None
        case "skipped":
            return f"skipped {migration.id} {migration.description}: {result.note}"
        case "would apply":
            return f"would apply {migration.id} {migration.description}"
        case "rehearsed":
            return f"rehearsed {migration.id} {migration.description} {took}, rolled back"
        case word:
            return f"{word} {migration.id} {migration.description} {took}"


def _loss_json(loss: Loss) -> dict[str, Any]:
    return {
        "kind": loss.kind,
        "table": loss.table,
        "column": loss.column,
        "rows": loss.rows,
        "statement": loss.statement,
        "note": loss.note,
    }


def preview_json(preview: RollbackPreview) -> list[dict[str, Any]]:
    """The steps of a rollback preview as JSON: id, description, deletes, not_counted."""
    return [
        {
            "id": step.migration.id,
            "description": step.migration.description,
            "deletes": [_loss_json(loss) for loss in step.losses],
            "not_counted": list(step.not_counted),
        }
        for step in preview.steps
    ]


def _loss_line(loss: Loss) -> str:
    count = "an unknown number of" if loss.rows is None else str(loss.rows)
    what = {
        "table": f"drops table {loss.table}: {count} row(s)",
        "column": f"drops column {loss.table}.{loss.column}: {count} value(s)",
        "rows": f"deletes from {loss.table}: {count} row(s)",
        "rebuild": f"rebuilds table {loss.table}: {count} row(s) at risk",
    }[loss.kind]
    return f"    {what}" + (f" ({loss.note})" if loss.note else "")


def preview_lines(preview: RollbackPreview) -> list[str]:
    """The preview as text: one block per step, newest first."""
    lines: list[str] = []
    for step in preview.steps:
        lines.append(f"would roll back {step.migration.id} {step.migration.description}")
        lines.extend(_loss_line(loss) for loss in step.losses)
        if not step.losses:
            lines.append("    deletes no data")
        lines.extend(f"    not counted: {statement}" for statement in step.not_counted)
    total = preview.rows_at_risk
    counted = "an unknown number of" if total is None else str(total)
    lines.append(f"In all: {counted} row(s) or value(s) at risk.")
    return lines


class Report:
    """Collects a command's output: prints text as it goes, or one JSON object at the end."""

    def __init__(self, command: str, *, as_json: bool) -> None:
        self.as_json = as_json
        self.document: dict[str, Any] = {"command": command, "ok": True}

    def line(self, text: str = "") -> None:
        """Print a line of text (nothing with ``--json``)."""
        if not self.as_json:
            print(text)

    def set(self, **fields: Any) -> None:
        """Set keys of the JSON object."""
        self.document.update(fields)

    def results(self, results: Sequence[MigrationResult], key: str = "results") -> None:
        """Report migration results: a line each, and the JSON list under ``key``."""
        self.document[key] = [result_json(result) for result in results]
        for result in results:
            text = _result_line(result)
            if text is not None:
                self.line(text)

    def fail(self, message: str) -> None:
        """Report the command's failure: one line on stderr, and ``ok``/``error`` in JSON."""
        self.document["ok"] = False
        self.document["error"] = message
        print(f"error: {message}", file=sys.stderr)

    def finish(self) -> None:
        """Print the JSON object (with ``--json``)."""
        if self.as_json:
            import json  # only scripts pay for it

            print(json.dumps(self.document, indent=2))


__all__ = ["Report", "outcome", "preview_json", "preview_lines", "result_json"]
