"""Programs and Atomic units of the Database protocol, proved on every backend through one
fixture (see ``tests/test_contract_database.py``): a failed operation thrown into the program as
the library's error, Atomic steps committed together or undone together, savepoints inside a
transaction, and libSQL over HTTP refusing every way to begin a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from contract_support import BATCH_ONLY, INTERACTIVE, make_constrained

from agentsdb.db.base import (
    Atomic,
    Begin,
    Commit,
    Database,
    Execute,
    ExecuteMany,
    ExecuteResult,
    FetchAll,
    FetchOne,
    Program,
    Rollback,
    Row,
)
from agentsdb.errors import (
    AgentsDBError,
    ForeignKeyViolationError,
    UniqueViolationError,
    UnsupportedOperationError,
)

# --- programs ------------------------------------------------------------------------------------


def insert_then_duplicate(outcome: list[str]) -> Program[str]:
    """Begin, insert, then hit a unique violation; the error is thrown into the program."""
    yield Begin()
    yield Execute("INSERT INTO owners (id, email) VALUES (2, 'b@example.org')")
    try:
        yield Execute("INSERT INTO owners (id, email) VALUES (3, 'a@example.org')")
    except UniqueViolationError as error:
        outcome.append(type(error).__name__)
        yield Rollback()
        return "rolled back"
    yield Commit()
    return "committed"


def uncaught_failure() -> Program[None]:
    yield Begin()
    yield Execute("INSERT INTO owners (id, email) VALUES (4, 'c@example.org')")
    yield Execute("INSERT INTO pets (id, owner_id, legs) VALUES (1, 999, 4)")
    yield Commit()


def reads_and_writes() -> Program[tuple[int, list[Any]]]:
    """A program without Begin: each statement commits on its own."""
    yield Execute("INSERT INTO owners (id, email) VALUES (7, 'seven@x.org')")
    many = yield ExecuteMany(
        "INSERT INTO owners (id, email) VALUES (:id, :email)",
        [{"id": 8, "email": "eight@x.org"}, {"id": 9, "email": "nine@x.org"}],
    )
    count = yield FetchOne("SELECT count(*) AS n FROM owners")
    rows = yield FetchAll("SELECT id FROM owners WHERE id >= :low ORDER BY id", {"low": 7})
    return many.rows_affected + count["n"], [row["id"] for row in rows]


@INTERACTIVE
async def test_run_throws_a_failed_operation_into_the_program_as_the_library_error(
    any_db: Database,
) -> None:
    await make_constrained(any_db)
    outcome: list[str] = []
    assert await any_db.run(insert_then_duplicate(outcome)) == "rolled back"
    assert outcome == ["UniqueViolationError"]
    # An error the program does not catch propagates and its transaction is rolled back.
    with pytest.raises(ForeignKeyViolationError) as uncaught:
        await any_db.run(uncaught_failure())
    assert uncaught.value.__cause__ is not None
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]


async def test_programs_without_begin_run_on_every_backend(any_db: Database) -> None:
    await make_constrained(any_db)
    assert await any_db.run(reads_and_writes()) == (2 + 4, [7, 8, 9])


def forgets_commit() -> Program[None]:
    yield Begin()
    yield Execute("INSERT INTO owners (id, email) VALUES (5, 'e@example.org')")


@INTERACTIVE
async def test_a_program_ending_with_its_transaction_open_is_rolled_back_and_reported(
    any_db: Database,
) -> None:
    await make_constrained(any_db)
    with pytest.raises(AgentsDBError, match="transaction still open; it was rolled back"):
        await any_db.run(forgets_commit())
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]


# --- atomic units --------------------------------------------------------------------------------

_INSERT_OWNER = "INSERT INTO owners (id, email) VALUES (:id, :email)"


def owners_atomically(first: int, duplicate: bool, caught: list[str]) -> Program[Any]:
    """One Atomic of every step kind; with ``duplicate`` its last step breaks the unique key."""
    last_email = "a@example.org" if duplicate else f"{first + 9}@example.org"
    try:
        results = yield Atomic(
            (
                Execute(_INSERT_OWNER, {"id": first, "email": f"{first}@example.org"}),
                ExecuteMany(
                    _INSERT_OWNER,
                    [{"id": first + i, "email": f"{first + i}@example.org"} for i in (1, 2)],
                ),
                FetchAll("SELECT id FROM owners WHERE id >= :id ORDER BY id", {"id": first}),
                FetchOne("SELECT email FROM owners WHERE id = :id", {"id": first + 2}),
                Execute(_INSERT_OWNER, {"id": first + 9, "email": last_email}),
            )
        )
    except UniqueViolationError as error:
        caught.append(type(error).__name__)
        # The program goes on after a failed unit: nothing of the unit is there.
        return (yield FetchOne("SELECT count(*) AS n FROM owners"))
    return results


async def test_atomic_returns_each_steps_result_and_commits_them_together(any_db: Database) -> None:
    await make_constrained(any_db)
    caught: list[str] = []
    written, many, listed, one, last = await any_db.run(owners_atomically(10, False, caught))
    assert caught == []
    assert written.rows_affected == 1
    assert many.rows_affected == 2
    assert listed == [{"id": 10}, {"id": 11}, {"id": 12}]
    assert one == {"email": "12@example.org"}
    assert last.rows_affected == 1
    rows = await any_db.fetch_all("SELECT id FROM owners ORDER BY id")
    assert [row["id"] for row in rows] == [1, 10, 11, 12, 19]


@dataclass(frozen=True, slots=True)
class LabelledExecute(Execute):
    """An application's own kind of statement: an operation by inheritance."""

    label: str = ""


@dataclass(frozen=True, slots=True)
class LabelledFetchAll(FetchAll):
    label: str = ""


async def test_subclasses_of_operations_run_as_their_base_on_every_backend(
    any_db: Database,
) -> None:
    await make_constrained(any_db)

    def program() -> Program[tuple[ExecuteResult, list[Row], list[Row]]]:
        written = yield LabelledExecute(
            "INSERT INTO owners (id, email) VALUES (30, '30@example.org')", label="insert"
        )
        inside = yield Atomic(
            (LabelledFetchAll("SELECT id FROM owners WHERE id = :id", {"id": 30}, label="read"),)
        )
        again = yield LabelledFetchAll("SELECT id FROM owners ORDER BY id", label="list")
        return written, inside[0], again

    written, inside, again = await any_db.run(program())
    assert written.rows_affected == 1
    assert inside == [{"id": 30}]
    assert [row["id"] for row in again] == [1, 30]


async def test_a_failing_atomic_step_undoes_every_step_and_is_thrown_into_the_program(
    any_db: Database,
) -> None:
    await make_constrained(any_db)
    caught: list[str] = []
    assert await any_db.run(owners_atomically(10, True, caught)) == {"n": 1}
    assert caught == ["UniqueViolationError"]
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]

    def uncaught() -> Program[None]:
        yield Atomic((Execute(_INSERT_OWNER, {"id": 2, "email": "a@example.org"}),))

    with pytest.raises(UniqueViolationError) as error:
        await any_db.run(uncaught())
    assert error.value.__cause__ is not None
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]


def atomic_inside_a_transaction(caught: list[str]) -> Program[Any]:
    yield Begin()
    yield Execute(_INSERT_OWNER, {"id": 5, "email": "5@example.org"})
    count = yield from owners_atomically(10, True, caught)
    ok = yield Atomic((Execute(_INSERT_OWNER, {"id": 6, "email": "6@example.org"}),))
    yield Commit()
    return count, ok[0].rows_affected


@INTERACTIVE
async def test_an_atomic_inside_a_transaction_is_a_savepoint_undone_alone(
    any_db: Database,
) -> None:
    await make_constrained(any_db)
    caught: list[str] = []
    assert await any_db.run(atomic_inside_a_transaction(caught)) == ({"n": 2}, 1)
    assert caught == ["UniqueViolationError"]
    rows = await any_db.fetch_all("SELECT id FROM owners ORDER BY id")
    assert [row["id"] for row in rows] == [1, 5, 6]


@BATCH_ONLY
async def test_without_interactive_transactions_every_way_to_begin_one_is_refused(
    any_db: Database,
) -> None:
    await make_constrained(any_db)
    with pytest.raises(UnsupportedOperationError, match=r"ws://, wss:// or libsql://"):
        any_db.transaction()
    # A program's Begin is refused too, thrown into the program like any other failure, before
    # anything of it ran.
    outcome: list[str] = []
    with pytest.raises(UnsupportedOperationError, match=r"ws://") as refused:
        await any_db.run(insert_then_duplicate(outcome))
    assert "interactive transaction" in str(refused.value)
    assert outcome == []
    with pytest.raises(UnsupportedOperationError, match=r"ws://"):
        await any_db.run(forgets_commit())
    caught: list[str] = []
    with pytest.raises(UnsupportedOperationError, match=r"ws://"):
        await any_db.run(atomic_inside_a_transaction(caught))
    assert caught == []
    assert await any_db.fetch_all("SELECT id FROM owners") == [{"id": 1}]


async def test_an_atomic_with_no_rows_for_execute_many_reports_none_changed(
    any_db: Database,
) -> None:
    await make_constrained(any_db)

    def empty() -> Program[Any]:
        return (yield Atomic((ExecuteMany(_INSERT_OWNER, []), FetchOne("SELECT 1 AS one"))))

    many, one = await any_db.run(empty())
    assert many.rows_affected == 0
    assert one == {"one": 1}
