"""What a migration is: numbered up/down statement lists, their checksum, and the lint rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from agentsdb.errors.migration import MigrationDefinitionError

#: Statements of a migration: one list for every dialect, or a list per dialect name.
Statements: TypeAlias = Sequence[str] | Mapping[str, Sequence[str]]

CHECKSUM_ALGORITHM = "sha256-v1"
KNOWN_CHECKSUM_ALGORITHMS = frozenset({CHECKSUM_ALGORITHM})
DIALECTS = frozenset({"sqlite", "postgresql"})

_ID = re.compile(r"(?:([a-z][a-z0-9_-]*):)?([0-9]+)")
#: The set a migration with a bare id ("003") belongs to unless it names another.
BUILTIN_SET = "agentsdb"
_SET_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_FIRST_WORD = re.compile(r"^([A-Za-z_]+)")
# SQLite accepts a pragma name (and schema) bare or quoted in any of its four quoting styles.
_QUOTED_NAME = r"""(?:\w+|"\w+"|'\w+'|`\w+`|\[\w+\])"""
_PRAGMA_NAME = re.compile(rf"""^PRAGMA\s+(?:{_QUOTED_NAME}\s*\.\s*)?["'`\[]?(\w+)""", re.IGNORECASE)
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
_PRAGMAS_IGNORED_IN_TRANSACTION = frozenset({"FOREIGN_KEYS", "JOURNAL_MODE"})


def normalize_statement(statement: str) -> str:
    """Line endings to ``\\n`` and trailing whitespace off every line; nothing else changes."""
    unified = statement.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in unified.split("\n"))


def checksum_statements(statements: Sequence[str], algorithm: str = CHECKSUM_ALGORITHM) -> str:
    """``sha256-v1:<hex>`` over the normalized statements (length-prefixed, so order counts)."""
    if algorithm != CHECKSUM_ALGORITHM:
        raise ValueError(f"unknown checksum algorithm {algorithm!r}")
    digest = hashlib.sha256()
    for statement in statements:
        encoded = normalize_statement(statement).encode("utf-8")
        digest.update(f"{len(encoded)}\n".encode("ascii"))
        digest.update(encoded)
    return f"{algorithm}:{digest.hexdigest()}"


_NOT_ONE_STRING = "must be a list of statements, not one string"


def _freeze(
    owner: str, which: str, statements: Statements
) -> tuple[str, ...] | dict[str, tuple[str, ...]]:
    if isinstance(statements, str):
        raise MigrationDefinitionError(owner, f"{which} {_NOT_ONE_STRING}")
    if isinstance(statements, Mapping):
        unknown = sorted(set(statements) - DIALECTS)
        if unknown:
            raise MigrationDefinitionError(
                owner, f"{which} names unknown dialect(s) {unknown}; use {sorted(DIALECTS)}"
            )
        return {
            name: _freeze_list(owner, f"{which}[{name!r}]", body)
            for name, body in statements.items()
        }
    return _freeze_list(owner, which, statements)


def _freeze_list(owner: str, which: str, statements: Sequence[str]) -> tuple[str, ...]:
    if isinstance(statements, str):
        raise MigrationDefinitionError(owner, f"{which} {_NOT_ONE_STRING}")
    frozen = tuple(statements)
    for index, statement in enumerate(frozen):
        if not isinstance(statement, str) or not statement.strip():
            raise MigrationDefinitionError(owner, f"{which}[{index}] is not a non-empty SQL string")
    return frozen


@dataclass(frozen=True)
class Migration:
    """One numbered schema change.

    ``id`` is a zero-padded number ("003"), or one qualified by the set it belongs to
    ("myapp:003"); the migrations of a set apply in numeric order. A bare id belongs to
    ``set_name`` (agentsdb's own set unless given); :class:`~agentsdb.migration_set.MigrationSet`
    qualifies the ids of an application's set. ``requires`` names migrations of other sets that
    must be applied first, as ``"SET:NNN"`` (``"agentsdb:005"``: a table with a foreign key to
    ``sessions``). ``up`` and ``down``
    are lists of single SQL statements (no splitting on ``;`` is ever done, so triggers are safe),
    or a mapping from dialect (``"sqlite"``, ``"postgresql"``) to such a list. ``down=None`` makes
    the migration irreversible. ``transactional=False`` runs the statements outside a transaction
    (for statements that cannot run inside one); such a migration is recorded as dirty until it
    finishes. ``foreign_keys=False`` switches SQLite's foreign keys off around the migration (for
    table rebuilds) and checks them before commit.
    """

    id: str
    description: str
    up: Statements = field(repr=False)
    down: Statements | None = field(default=None, repr=False)
    created_at: str | None = None
    transactional: bool = True
    foreign_keys: bool = True
    requires: Sequence[str] = ()
    set_name: str = ""
    # Derived from the fields above once, in __post_init__, and never changed: a checksum for
    # every dialect (one text when the statements are the same for all), and the lint.
    _checksums: Mapping[str, str] | str = field(default="", init=False, repr=False, compare=False)
    _down_checksums: Mapping[str, str] | str | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _lint: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        match = _ID.fullmatch(self.id) if isinstance(self.id, str) else None
        if match is None:
            raise MigrationDefinitionError(
                str(self.id)[:40],
                "id must be a string of digits, zero-padded, such as '003' (or 'myapp:003')",
            )
        self._set_identity(match.group(1))
        if int(match.group(2)) == 0:
            raise MigrationDefinitionError(
                self.id, "ids start at 1: '0' means 'before the first migration' in rollback_to"
            )
        if not isinstance(self.description, str) or not self.description.strip():
            raise MigrationDefinitionError(self.id, "description must be a non-empty string")
        up = _freeze(self.id, "up", self.up)
        bodies = up.values() if isinstance(up, dict) else [up]
        if not up or not all(bodies):
            raise MigrationDefinitionError(self.id, "up has no statements")
        object.__setattr__(self, "up", up)
        if self.down is not None:
            object.__setattr__(self, "down", _freeze(self.id, "down", self.down))
        if not self.transactional and not self.foreign_keys:
            raise MigrationDefinitionError(
                self.id,
                "foreign_keys=False needs transactional=True: the foreign key check runs "
                "before the migration's COMMIT",
            )
        object.__setattr__(self, "_checksums", _checksums_of(self.up))
        if self.down is not None:
            object.__setattr__(self, "_down_checksums", _checksums_of(self.down))
        object.__setattr__(self, "_lint", tuple(self._find_lint()))

    def _set_identity(self, prefix: str | None) -> None:
        name = self.set_name
        if not isinstance(name, str) or (name and not _SET_NAME.fullmatch(name)):
            raise MigrationDefinitionError(
                self.id, f"set_name {str(name)[:40]!r} is not a set name (a-z, 0-9, _ and -)"
            )
        if prefix is not None and name and name != prefix:
            raise MigrationDefinitionError(
                self.id, f"its id names set {prefix!r} but set_name says {name!r}"
            )
        object.__setattr__(self, "set_name", prefix or name or BUILTIN_SET)
        if isinstance(self.requires, str):
            raise MigrationDefinitionError(self.id, "requires must be a list of 'SET:NNN' ids")
        requires = tuple(self.requires)
        for required in requires:
            found = _ID.fullmatch(required) if isinstance(required, str) else None
            if found is None or found.group(1) is None:
                raise MigrationDefinitionError(
                    self.id,
                    f"requires {str(required)[:40]!r}: name a migration of a set as 'SET:NNN', "
                    "such as 'agentsdb:005'",
                )
        object.__setattr__(self, "requires", requires)

    @property
    def version(self) -> int:
        """The id's number: the migration's place in its set's order."""
        return int(self.id.rpartition(":")[2])

    @property
    def qualified_id(self) -> str:
        """``SET:NNN``: the id qualified by its set, as ``requires`` and rollbacks name it."""
        return self.id if ":" in self.id else f"{self.set_name}:{self.id}"

    @property
    def reversible(self) -> bool:
        """True when the migration has ``down`` statements."""
        return self.down is not None

    def up_statements(self, dialect: str) -> tuple[str, ...]:
        """The ``up`` statements for a dialect."""
        return self._pick("up", self.up, dialect)

    def down_statements(self, dialect: str) -> tuple[str, ...] | None:
        """The ``down`` statements for a dialect, or ``None`` when irreversible."""
        if self.down is None:
            return None
        return self._pick("down", self.down, dialect)

    def _pick(self, which: str, statements: Statements, dialect: str) -> tuple[str, ...]:
        if isinstance(statements, Mapping):
            if dialect not in statements:
                raise MigrationDefinitionError(
                    self.id, f"{which} has no statements for the {dialect} dialect"
                )
            return tuple(statements[dialect])
        return tuple(statements)

    def checksum(self, dialect: str = "sqlite") -> str:
        """The checksum of the ``up`` statements of this dialect (computed when made)."""
        return self._checksum_for("up", self._checksums, dialect)

    def down_checksum(self, dialect: str = "sqlite") -> str | None:
        """The checksum of the ``down`` statements of this dialect, by the same rules as
        :meth:`checksum`; ``None`` when the migration is irreversible."""
        if self._down_checksums is None:
            return None
        return self._checksum_for("down", self._down_checksums, dialect)

    def _checksum_for(self, which: str, sums: Mapping[str, str] | str, dialect: str) -> str:
        if isinstance(sums, str):
            return sums
        if dialect not in sums:
            raise MigrationDefinitionError(
                self.id, f"{which} has no statements for the {dialect} dialect"
            )
        return sums[dialect]

    def lint(self) -> list[str]:
        """Problems that make this migration unsafe to run as declared; empty when it is fine."""
        return list(self._lint)

    def _find_lint(self) -> list[str]:
        if not self.transactional:
            return []
        bodies: list[tuple[str, Sequence[str]]] = []
        for which, statements in (("up", self.up), ("down", self.down)):
            if statements is None:
                continue
            if isinstance(statements, Mapping):
                bodies.extend((f"{which}[{d!r}]", body) for d, body in statements.items())
            else:
                bodies.append((which, statements))
        problems: list[str] = []
        for where, body in bodies:
            for index, statement in enumerate(body):
                problem = _lint_statement(statement)
                if problem:
                    problems.append(f"{where}[{index}]: {problem}")
        return problems


def _checksums_of(statements: Statements) -> Mapping[str, str] | str:
    """The checksum of frozen statements: one per dialect, or one for all."""
    if isinstance(statements, Mapping):
        return MappingProxyType(
            {dialect: checksum_statements(tuple(body)) for dialect, body in statements.items()}
        )
    return checksum_statements(tuple(statements))


def _lint_statement(statement: str) -> str | None:
    text = _LEADING_COMMENTS.sub("", statement, count=1)
    word = _FIRST_WORD.match(text)
    if word is None:
        return None
    first = word.group(1).upper()
    if first in _TRANSACTION_CONTROL:
        return (
            f"{first} controls the transaction, but the engine already runs each migration in "
            "one transaction; remove it, or declare transactional=False"
        )
    if first == "VACUUM":
        return (
            "VACUUM cannot run inside a transaction; put it in a migration with transactional=False"
        )
    pragma = _PRAGMA_NAME.match(text)
    if pragma is not None and pragma.group(1).upper() in _PRAGMAS_IGNORED_IN_TRANSACTION:
        name = pragma.group(1).lower()
        hint = (
            "declare foreign_keys=False on the migration instead"
            if name == "foreign_keys"
            else "set it on the connection, not in a migration"
        )
        return f"PRAGMA {name} does nothing inside a transaction; {hint}"
    return None
