"""Migration planning, proved without any database: ordering, digests, validation, selection."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agentsdb import (
    ChecksumMismatchError,
    ConfigurationError,
    DirtyMigrationError,
    IrreversibleMigrationError,
    Migration,
    MigrationDefinitionError,
    MigrationOrderError,
    UnknownMigrationError,
)
from agentsdb.migrator.plan import (
    AppliedRecord,
    chain_next,
    chain_of,
    find_migration,
    find_problems,
    order_migrations,
    select_pending,
    select_rollbacks,
)


def mig(migration_id: str, *, reversible: bool = True, body: str | None = None) -> Migration:
    table = f"t{migration_id}"
    return Migration(
        id=migration_id,
        description=f"create {table}",
        up=[body or f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"],
        down=[f"DROP TABLE {table}"] if reversible else None,
    )


def applied(*migrations: Migration, success: bool = True) -> list[AppliedRecord]:
    return [
        AppliedRecord(m.id, m.description, m.checksum("sqlite"), success, started_at="then")
        for m in migrations
    ]


def ids(migrations: Sequence[Migration]) -> list[str]:
    return [m.id for m in migrations]


M1, M2, M3, M4 = mig("001"), mig("002"), mig("003"), mig("004")
ALL = (M1, M2, M3, M4)


# --- ordering ------------------------------------------------------------------------------------


def test_migrations_are_ordered_by_number_not_by_text_or_registration() -> None:
    ordered = order_migrations([mig("10"), mig("9"), mig("002"), mig("0100")])
    assert ids(ordered) == ["002", "9", "10", "0100"]


def test_duplicate_id_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="duplicate id: 002") as caught:
        order_migrations([M1, M2, mig("002", body="CREATE TABLE other (id INTEGER)")])
    assert caught.value.migration_id == "002"


def test_same_number_padded_differently_is_a_duplicate() -> None:
    with pytest.raises(MigrationDefinitionError, match="duplicate id: 003") as caught:
        order_migrations([mig("003"), mig("3")])
    assert caught.value.migration_id == "3"


# --- chain digests -------------------------------------------------------------------------------


def test_chain_of_no_migrations_is_none() -> None:
    assert chain_of([], "sqlite") is None


def test_chain_is_the_fold_of_chain_next_over_ids_and_checksums() -> None:
    head = None
    for migration in ALL:
        head = chain_next(head, migration.id, migration.checksum("sqlite"))
    assert chain_of(ALL, "sqlite") == head
    assert head is not None
    assert len(head) == 64


def test_chain_changes_when_any_checksum_changes() -> None:
    edited = (M1, mig("002", body="CREATE TABLE t002 (id INTEGER)"), M3, M4)
    assert chain_of(edited, "sqlite") != chain_of(ALL, "sqlite")


def test_chain_names_the_set_of_migrations_whatever_their_apply_order() -> None:
    base = chain_of(ALL, "sqlite")
    assert chain_of((M2, M1, M4, M3), "sqlite") == base
    assert chain_of(ALL[:3], "sqlite") != base
    same_sql_other_id = Migration(id="005", description="x", up=M4.up, down=M4.down)
    assert chain_of((M1, M2, M3, same_sql_other_id), "sqlite") != base


def test_chain_is_deterministic_across_instances() -> None:
    assert chain_of([mig("001"), mig("002")], "sqlite") == chain_of([M1, M2], "sqlite")


# --- find_problems -------------------------------------------------------------------------------


def test_matching_database_has_no_problems() -> None:
    problems = find_problems(ALL, applied(M1, M2), "sqlite")
    assert problems.errors == []
    assert problems.warnings == []


def test_edited_applied_migration_is_a_checksum_mismatch() -> None:
    edited = mig("002", body="CREATE TABLE t002 (id INTEGER PRIMARY KEY, extra TEXT)")
    problems = find_problems([M1, edited, M3], applied(M1, M2), "sqlite")
    (error,) = problems.errors
    assert isinstance(error, ChecksumMismatchError)
    assert error.migration_id == "002"
    assert error.expected == M2.checksum()
    assert error.actual == edited.checksum()
    assert "edited after it was applied" in str(error)


def test_checksum_mismatch_is_ignored_when_checksums_are_not_validated() -> None:
    edited = mig("002", body="CREATE TABLE t002 (id INTEGER)")
    problems = find_problems([M1, edited], applied(M1, M2), "sqlite", validate_checksums=False)
    assert problems.errors == []


def test_checksum_of_an_unknown_algorithm_is_a_mismatch() -> None:
    record = AppliedRecord("001", "x", "sha512-v9:" + "0" * 128, True)
    (error,) = find_problems([M1], [record], "sqlite").errors
    assert isinstance(error, ChecksumMismatchError)
    assert "sha512-v9" in error.actual


def test_applied_migration_unknown_to_the_code_is_reported() -> None:
    problems = find_problems([M1, M2], applied(M1, M2, M3, M4), "sqlite")
    (error,) = problems.errors
    assert isinstance(error, UnknownMigrationError)
    assert error.migration_ids == ["003", "004"]


def test_pending_migration_below_newest_applied_is_an_order_error() -> None:
    problems = find_problems(ALL, applied(M1, M3), "sqlite")
    (error,) = problems.errors
    assert isinstance(error, MigrationOrderError)
    assert error.pending_ids == ["002"]
    assert error.newest_applied == "003"
    assert "allow_out_of_order=True" in str(error)


def test_allow_out_of_order_turns_the_order_error_into_a_warning() -> None:
    problems = find_problems(ALL, applied(M1, M3), "sqlite", allow_out_of_order=True)
    assert problems.errors == []
    (warning,) = problems.warnings
    assert "002" in warning
    assert "out of order" in warning


def test_dirty_record_is_reported_first() -> None:
    records = [*applied(M1), *applied(M2, success=False)]
    records.append(AppliedRecord("009", "gone", M1.checksum(), True))
    problems = find_problems(ALL, records, "sqlite")
    assert isinstance(problems.errors[0], DirtyMigrationError)
    assert problems.errors[0].migration_id == "002"
    assert "agentsdb repair 002" in str(problems.errors[0])
    assert any(isinstance(error, UnknownMigrationError) for error in problems.errors)


def test_dirty_record_is_not_checksum_checked() -> None:
    dirty = AppliedRecord("002", "x", "sha256-v1:" + "0" * 64, False)
    problems = find_problems(ALL, [*applied(M1), dirty], "sqlite")
    assert [type(error) for error in problems.errors] == [DirtyMigrationError]


# --- select_pending ------------------------------------------------------------------------------


def test_pending_is_every_unapplied_migration_in_order() -> None:
    assert ids(select_pending(ALL, [])) == ["001", "002", "003", "004"]
    assert ids(select_pending(ALL, ["001", "002"])) == ["003", "004"]
    assert select_pending(ALL, ["001", "002", "003", "004"]) == []


def test_limit_applies_at_most_n() -> None:
    assert ids(select_pending(ALL, ["001"], limit=2)) == ["002", "003"]
    assert select_pending(ALL, [], limit=0) == []
    assert ids(select_pending(ALL, [], limit=99)) == ["001", "002", "003", "004"]


def test_target_includes_the_target_itself() -> None:
    assert ids(select_pending(ALL, [], target="003")) == ["001", "002", "003"]
    assert ids(select_pending(ALL, ["001"], target="3")) == ["002", "003"]
    assert select_pending(ALL, ["001", "002"], target="002") == []


def test_limit_and_target_combine() -> None:
    assert ids(select_pending(ALL, [], limit=2, target="003")) == ["001", "002"]
    assert ids(select_pending(ALL, [], limit=5, target="002")) == ["001", "002"]


@pytest.mark.parametrize("limit", [-1, True, 1.5, "2"])
def test_bad_limit_is_a_configuration_error(limit: object) -> None:
    with pytest.raises(ConfigurationError, match="limit must be a non-negative integer"):
        select_pending(ALL, [], limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("target", ["005", "abc", ""])
def test_unknown_target_is_a_configuration_error(target: str) -> None:
    with pytest.raises(ConfigurationError):
        select_pending(ALL, [], target=target)


def test_find_migration_matches_by_number() -> None:
    assert find_migration(ALL, "3") is M3
    with pytest.raises(ConfigurationError, match="no migration with id"):
        find_migration(ALL, "7")


# --- select_rollbacks ----------------------------------------------------------------------------


def test_rollbacks_run_newest_first_down_to_the_target_exclusive() -> None:
    assert ids(select_rollbacks(ALL, applied(*ALL), "002")) == ["004", "003"]
    assert select_rollbacks(ALL, applied(*ALL), "004") == []


@pytest.mark.parametrize("everything", ["0", "000"])
def test_zero_target_rolls_back_everything(everything: str) -> None:
    assert ids(select_rollbacks(ALL, applied(M1, M2, M3), everything)) == ["003", "002", "001"]


def test_rollbacks_follow_apply_order_when_applied_out_of_order() -> None:
    assert ids(select_rollbacks(ALL, applied(M1, M3, M2), "001")) == ["002", "003"]


def test_irreversible_migration_anywhere_in_the_range_is_detected_before_any_change() -> None:
    irreversible = mig("002", reversible=False)
    migrations = (M1, irreversible, M3, M4)
    with pytest.raises(IrreversibleMigrationError) as caught:
        select_rollbacks(migrations, applied(*migrations), "001")
    assert caught.value.migration_id == "002"
    # At or below the target it is not rolled back, so it does not matter.
    assert ids(select_rollbacks(migrations, applied(*migrations), "002")) == ["004", "003"]


@pytest.mark.parametrize("target", ["003", "009", "x", "-1"])
def test_rollback_target_that_is_not_applied_is_a_configuration_error(target: str) -> None:
    with pytest.raises(ConfigurationError):
        select_rollbacks(ALL, applied(M1, M2), target)


def test_rollback_with_unknown_applied_migration_is_refused() -> None:
    with pytest.raises(UnknownMigrationError) as caught:
        select_rollbacks([M1, M2], applied(M1, M2, M3), "001")
    assert caught.value.migration_ids == ["003"]


@pytest.mark.parametrize("bad", ["1_0", " 2", "٣", "+3", "3.0", ""])
def test_ids_given_by_callers_must_be_plain_digits(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="not a migration id"):
        select_pending(ALL, [], target=bad)
    with pytest.raises(ConfigurationError, match="not a migration id"):
        select_rollbacks(ALL, [], bad)
