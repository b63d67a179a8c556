"""A named set of migrations: agentsdb's own, or an application's, each numbered on its own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agentsdb.errors import MigrationDefinitionError
from agentsdb.migration import BUILTIN_SET, Migration

#: agentsdb's sets keep bare ids ("005") in the tracking table, as every earlier version
#: recorded them; an application's set records "myapp:001".
BARE_ID_SETS = frozenset({BUILTIN_SET, "agentsdb-cutover"})

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class MigrationSet:
    """Migrations numbered on their own (001, 002, ...) under one name.

    ``MigrationSet("myapp", load_migrations("migrations/"))``: the ids are recorded as
    ``myapp:001``..., so they never collide with agentsdb's own or another set's. A migration
    names what it needs in another set with ``requires=["agentsdb:005"]``. ``optional=True``
    registers the set (its applied migrations are validated and can be rolled back) without
    applying it until it is registered without the flag.
    """

    name: str
    migrations: tuple[Migration, ...]
    optional: bool = False

    def __init__(
        self, name: str, migrations: Iterable[Migration], *, optional: bool = False
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise MigrationDefinitionError(
                str(name)[:40],
                "a set name is lower-case letters, digits, '_' and '-', starting with a letter",
            )
        members = []
        for migration in migrations:
            if not isinstance(migration, Migration):
                raise MigrationDefinitionError(
                    str(getattr(migration, "id", "?"))[:40],
                    f"expected a Migration, got {type(migration).__name__}",
                )
            members.append(_member(name, migration))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "migrations", tuple(members))
        object.__setattr__(self, "optional", bool(optional))

    def with_optional(self, optional: bool) -> MigrationSet:
        """The same set, applied on request (``True``) or by every ``migrate()``."""
        return MigrationSet(self.name, self.migrations, optional=optional)


def _member(name: str, migration: Migration) -> Migration:
    prefix, _, number = migration.id.rpartition(":")
    if prefix and prefix != name:
        raise MigrationDefinitionError(
            migration.id, f"its id names set {prefix!r}, not the set {name!r} it is added to"
        )
    if ":" not in migration.id and migration.set_name not in (BUILTIN_SET, name):
        raise MigrationDefinitionError(
            migration.id, f"it belongs to set {migration.set_name!r}, not {name!r}"
        )
    wanted = number if name in BARE_ID_SETS else f"{name}:{number}"
    if migration.id == wanted and migration.set_name == name:
        return migration
    # A shallow copy keeps the validated statements (and their cached checksums, which depend on
    # the statements only); re-running the whole validation costs ~5 ms per 1,000 migrations.
    member: Migration = object.__new__(Migration)
    member.__dict__.update(migration.__dict__, id=wanted, set_name=name)
    return member


__all__ = ["BARE_ID_SETS", "MigrationSet"]
