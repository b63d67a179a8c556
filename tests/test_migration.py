"""Migration definitions: construction errors, checksums and lint. No database involved."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentsdb import Migration, MigrationDefinitionError
from agentsdb.migration import CHECKSUM_ALGORITHM, checksum_statements, normalize_statement

CREATE_T = "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL DEFAULT 'a'\n)"
CREATE_U = "CREATE TABLE u (id INTEGER PRIMARY KEY)"


def make(up: Any, **options: Any) -> Migration:
    return Migration(id=options.pop("id", "001"), description="test", up=up, **options)


# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id", ["", "abc", "3a", "-1", "1.0", " 003", "003 ", "003\n", "٣", "0x1", 3, None]
)
def test_id_that_is_not_a_string_of_ascii_digits_is_rejected(bad_id: Any) -> None:
    with pytest.raises(MigrationDefinitionError, match="id must be a string of digits"):
        Migration(id=bad_id, description="x", up=[CREATE_T])


def test_valid_id_gives_the_numeric_version() -> None:
    assert make([CREATE_T], id="010").version == 10


def test_empty_up_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="up has no statements") as caught:
        make([])
    assert caught.value.migration_id == "001"


def test_empty_dialect_mapping_for_up_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="up has no statements"):
        make({})


@pytest.mark.parametrize("which", ["up", "down"])
def test_a_single_string_instead_of_a_list_is_rejected(which: str) -> None:
    fields: dict[str, Any] = {"up": [CREATE_T], "down": ["DROP TABLE t"]}
    fields[which] = "CREATE TABLE a (x); CREATE TABLE b (y)"
    with pytest.raises(MigrationDefinitionError, match="list of statements, not one string"):
        Migration(id="001", description="x", **fields)


def test_a_single_string_inside_a_dialect_mapping_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="not one string"):
        make({"sqlite": CREATE_T})


def test_unknown_dialect_key_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="unknown dialect") as caught:
        make({"sqlite": [CREATE_T], "mysql": [CREATE_T]})
    assert "mysql" in caught.value.problem


@pytest.mark.parametrize("statement", ["", "   \n\t", None, 42])
def test_blank_or_non_string_statement_is_rejected(statement: Any) -> None:
    with pytest.raises(MigrationDefinitionError, match=r"up\[1\] is not a non-empty SQL string"):
        make([CREATE_T, statement])


def test_blank_description_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="description"):
        Migration(id="001", description="  ", up=[CREATE_T])


def test_foreign_keys_off_requires_a_transaction() -> None:
    with pytest.raises(MigrationDefinitionError, match="foreign_keys=False needs transactional"):
        make([CREATE_T], transactional=False, foreign_keys=False)


def test_statement_lists_are_frozen_into_tuples() -> None:
    up = [CREATE_T]
    migration = make(up, down=["DROP TABLE t"])
    up.append("DROP TABLE t")
    assert migration.up == (CREATE_T,)
    assert migration.down == ("DROP TABLE t",)


def test_dialect_mapping_picks_the_statements_of_the_dialect() -> None:
    migration = make(
        {"sqlite": [CREATE_T], "postgresql": ["CREATE TABLE t (id BIGSERIAL PRIMARY KEY)"]},
        down={"sqlite": ["DROP TABLE t"]},
    )
    assert migration.up_statements("sqlite") == (CREATE_T,)
    assert migration.up_statements("postgresql") == ("CREATE TABLE t (id BIGSERIAL PRIMARY KEY)",)
    assert migration.down_statements("sqlite") == ("DROP TABLE t",)
    with pytest.raises(MigrationDefinitionError, match="no statements for the postgresql"):
        migration.down_statements("postgresql")
    assert migration.checksum("sqlite") != migration.checksum("postgresql")


def test_migration_without_down_is_irreversible() -> None:
    assert not make([CREATE_T]).reversible
    assert make([CREATE_T]).down_statements("sqlite") is None
    assert make([CREATE_T], down=["DROP TABLE t"]).reversible


# --- checksum ------------------------------------------------------------------------------------


def test_checksum_has_the_versioned_sha256_format() -> None:
    checksum = make([CREATE_T]).checksum()
    assert CHECKSUM_ALGORITHM == "sha256-v1"
    assert re.fullmatch(r"sha256-v1:[0-9a-f]{64}", checksum)


def test_checksum_is_stable_across_instances() -> None:
    assert make([CREATE_T, CREATE_U]).checksum() == make([CREATE_T, CREATE_U]).checksum()
    assert make([CREATE_T]).checksum() == checksum_statements([CREATE_T])


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param(CREATE_T.replace("\n", "\r\n"), id="crlf"),
        pytest.param(CREATE_T.replace("\n", "\r"), id="cr"),
        pytest.param(CREATE_T.replace("\n", "  \n"), id="trailing-spaces"),
        pytest.param(CREATE_T.replace("\n", "\t \r\n"), id="trailing-tabs-and-crlf"),
        pytest.param(CREATE_T + "   ", id="trailing-spaces-on-last-line"),
    ],
)
def test_line_ending_or_trailing_whitespace_edit_keeps_the_checksum(edited: str) -> None:
    assert edited != CREATE_T
    assert make([edited, CREATE_U]).checksum() == make([CREATE_T, CREATE_U]).checksum()


@pytest.mark.parametrize(
    "edited_up",
    [
        pytest.param([CREATE_U, CREATE_T], id="statement-order"),
        pytest.param([CREATE_T.replace("'a'", "'b'"), CREATE_U], id="changed-literal"),
        pytest.param([CREATE_T, CREATE_U, "CREATE INDEX t_name ON t (name)"], id="added-statement"),
        pytest.param([CREATE_T], id="removed-statement"),
        pytest.param([CREATE_T.replace("    id", "  id"), CREATE_U], id="indentation"),
        pytest.param([CREATE_T.replace("TABLE t", "table t"), CREATE_U], id="keyword-case"),
        pytest.param([CREATE_T.replace("\n", "\n\n", 1), CREATE_U], id="added-blank-line"),
        pytest.param([CREATE_T + CREATE_U], id="two-statements-joined"),
        pytest.param([CREATE_T, "CREATE TABLE u  (id INTEGER PRIMARY KEY)"], id="inner-spacing"),
    ],
)
def test_any_other_edit_changes_the_checksum(edited_up: list[str]) -> None:
    assert make(edited_up).checksum() != make([CREATE_T, CREATE_U]).checksum()


def test_checksum_covers_up_only() -> None:
    original = make([CREATE_T], down=["DROP TABLE t"])
    assert make([CREATE_T], down=["DROP TABLE IF EXISTS t"]).checksum() == original.checksum()
    assert make([CREATE_T]).checksum() == original.checksum()


def test_normalize_changes_only_line_endings_and_trailing_whitespace() -> None:
    assert normalize_statement("  a  \r\n\tb\t\rc ") == "  a\n\tb\nc"


def test_unknown_checksum_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown checksum algorithm"):
        checksum_statements([CREATE_T], algorithm="md5")


# --- lint ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("BEGIN", "BEGIN controls the transaction"),
        ("begin immediate transaction", "BEGIN controls the transaction"),
        ("COMMIT", "COMMIT controls the transaction"),
        ("commit;", "COMMIT controls the transaction"),
        ("END TRANSACTION", "END controls the transaction"),
        ("ROLLBACK", "ROLLBACK controls the transaction"),
        ("SAVEPOINT sp1", "SAVEPOINT controls the transaction"),
        ("RELEASE sp1", "RELEASE controls the transaction"),
        ("-- a comment first\n  BEGIN", "BEGIN controls the transaction"),
        ("/* block\n comment */ COMMIT", "COMMIT controls the transaction"),
        ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys does nothing inside a transaction"),
        ("pragma FOREIGN_KEYS=off", "PRAGMA foreign_keys does nothing"),
        ("  PRAGMA\tforeign_keys\n= 0", "PRAGMA foreign_keys does nothing"),
        ("PRAGMA main.foreign_keys = OFF", "PRAGMA foreign_keys does nothing"),
        ("PRAGMA main . foreign_keys=OFF", "PRAGMA foreign_keys does nothing"),
        ('PRAGMA "foreign_keys" = OFF', "PRAGMA foreign_keys does nothing"),
        ('PRAGMA "main"."foreign_keys" = OFF', "PRAGMA foreign_keys does nothing"),
        ("PRAGMA [foreign_keys] = OFF", "PRAGMA foreign_keys does nothing"),
        ("PRAGMA `foreign_keys` = OFF", "PRAGMA foreign_keys does nothing"),
        ("PRAGMA main.'foreign_keys' = OFF", "PRAGMA foreign_keys does nothing"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode does nothing"),
        ("VACUUM", "VACUUM cannot run inside a transaction"),
        ("vacuum into '/tmp/copy.db'", "VACUUM cannot run inside a transaction"),
    ],
)
def test_lint_rejects_transaction_control_and_pragmas_in_transactional_migration(
    statement: str, reason: str
) -> None:
    problems = make([CREATE_T, statement]).lint()
    assert len(problems) == 1
    assert problems[0].startswith("up[1]: ")
    assert reason in problems[0]


def test_lint_says_how_to_fix_foreign_keys_pragma() -> None:
    (problem,) = make(["PRAGMA foreign_keys = OFF"]).lint()
    assert "declare foreign_keys=False" in problem


def test_lint_checks_down_and_every_dialect() -> None:
    migration = make(
        {"sqlite": [CREATE_T], "postgresql": [CREATE_T, "COMMIT"]},
        down=["DROP TABLE t", "VACUUM"],
    )
    problems = migration.lint()
    assert len(problems) == 2
    assert any(p.startswith("up['postgresql'][1]: COMMIT") for p in problems)
    assert any(p.startswith("down[1]: VACUUM") for p in problems)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN\n"
        "    UPDATE t SET name = name WHERE id = NEW.id;\n"
        "END",
        "CREATE TABLE commits (id INTEGER PRIMARY KEY, begin_at TEXT, end_at TEXT)",
        "INSERT INTO t (name) VALUES ('BEGIN; COMMIT; VACUUM')",
        "PRAGMA user_version = 3",
        "PRAGMA foreign_key_check",
        "PRAGMA foreign_keys_extra_name_is_not_the_pragma",
    ],
)
def test_lint_accepts_statements_that_do_not_control_the_transaction(statement: str) -> None:
    assert make([CREATE_T, statement]).lint() == []


def test_lint_accepts_anything_when_not_transactional() -> None:
    statements = [
        "VACUUM",
        "BEGIN",
        "COMMIT",
        "PRAGMA foreign_keys = OFF",
        "PRAGMA journal_mode=WAL",
    ]
    assert make(statements, transactional=False, down=["ROLLBACK"]).lint() == []
    assert make(statements).lint() != []


@pytest.mark.parametrize("zero", ["0", "000"])
def test_id_zero_is_rejected_because_rollback_to_uses_it(zero: str) -> None:
    with pytest.raises(MigrationDefinitionError, match="ids start at 1"):
        Migration(id=zero, description="x", up=["CREATE TABLE t (a)"])


def test_a_dialect_with_no_up_statements_is_rejected() -> None:
    with pytest.raises(MigrationDefinitionError, match="up has no statements"):
        Migration(
            id="001", description="x", up={"sqlite": ["CREATE TABLE t (a)"], "postgresql": []}
        )


def test_down_checksum_follows_the_up_checksum_rules() -> None:
    plain = Migration(id="001", description="d", up=["SELECT 1"], down=["DROP TABLE t\n"])
    crlf = Migration(id="001", description="d", up=["SELECT 1"], down=["DROP TABLE t  \r\n"])
    edited = Migration(id="001", description="d", up=["SELECT 1"], down=["DROP TABLE u"])
    assert plain.down_checksum() == checksum_statements(["DROP TABLE t\n"])
    assert crlf.down_checksum() == plain.down_checksum()
    assert edited.down_checksum() != plain.down_checksum()
    assert plain.checksum() == edited.checksum()  # the up checksum ignores the down


def test_down_checksum_is_per_dialect_and_none_when_irreversible() -> None:
    split = Migration(
        id="001",
        description="d",
        up=["SELECT 1"],
        down={"sqlite": ["DROP TABLE a"], "postgresql": ["DROP TABLE a CASCADE"]},
    )
    assert split.down_checksum("sqlite") != split.down_checksum("postgresql")
    assert Migration(id="001", description="d", up=["SELECT 1"]).down_checksum() is None
