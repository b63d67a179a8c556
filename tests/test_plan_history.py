"""Finding tracking rows deleted from the middle of the history, without a database."""

from __future__ import annotations

from agentsdb import Migration
from agentsdb.migrator.plan import AppliedRecord, chain_next, find_missing, find_problems


def migrations(*ids: str) -> list[Migration]:
    return [Migration(id=i, description=f"m{i}", up=[f"CREATE TABLE t{i} (a)"]) for i in ids]


def history(order: list[Migration]) -> list[AppliedRecord]:
    """The rows an apply in ``order`` records, each with its running digest."""
    rows: list[AppliedRecord] = []
    head: str | None = None
    for m in order:
        head = chain_next(head, m.id, m.checksum())
        rows.append(
            AppliedRecord(
                id=m.id, description=m.description, checksum=m.checksum(), success=True, chain=head
            )
        )
    return rows


def test_a_whole_history_has_nothing_missing() -> None:
    ms = migrations("001", "002", "003")
    assert find_missing(ms, history(ms), "sqlite") is None


def test_an_out_of_order_history_has_nothing_missing() -> None:
    ms = migrations("001", "002", "003")
    assert find_missing(ms, history([ms[0], ms[2], ms[1]]), "sqlite") is None


def test_a_rolled_back_newest_row_is_not_missing() -> None:
    ms = migrations("001", "002", "003")
    assert find_missing(ms, history(ms)[:-1], "sqlite") is None


def test_consecutive_deleted_rows_are_named_with_the_rows_around_them() -> None:
    ms = migrations("001", "002", "003", "004", "005")
    rows = history(ms)
    found = find_missing(ms, [rows[0], rows[3], rows[4]], "sqlite")
    assert found is not None
    assert (found.migration_ids, found.after, found.before) == (["002", "003"], "001", "004")


def test_a_hand_edited_checksum_is_a_mismatch_not_a_missing_row() -> None:
    ms = migrations("001", "002")
    rows = history(ms)
    forged = AppliedRecord(
        id="001",
        description="m001",
        checksum="sha256-v1:" + "0" * 64,
        success=True,
        chain=rows[0].chain,
    )
    problems = find_problems(ms, [forged, rows[1]], "sqlite")
    assert [type(e).__name__ for e in problems.errors] == ["ChecksumMismatchError"]


def test_missing_rows_are_not_also_reported_as_out_of_order() -> None:
    ms = migrations("001", "002", "003")
    rows = history(ms)
    problems = find_problems(ms, [rows[0], rows[2]], "sqlite", allow_out_of_order=True)
    assert [type(e).__name__ for e in problems.errors] == ["MissingMigrationRecordError"]
    assert problems.warnings == []
