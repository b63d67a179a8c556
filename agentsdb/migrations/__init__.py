"""The built-in migrations, one module each, and the ordered registry.

Each module defines ``migration``, a :class:`~agentsdb.migration.Migration`. A module's file name
starts with its zero-padded id, so it is imported by name rather than with ``import``. Never edit
a migration that has shipped: add a new one.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from functools import cache
from pathlib import Path

from agentsdb.errors import MigrationDefinitionError
from agentsdb.migration import Migration

#: The built-in migration modules, in the order they apply.
BUILTIN_MODULES: tuple[str, ...] = (
    "001_initial_schema",
    "002_add_session_tables",
    "003_add_users",
    "004_add_agent_profiles",
    "005_add_session_owner",
    "006_add_memories",
    "007_add_conversations",
)

MODULE_NAME = re.compile(r"^(\d+)_([a-z0-9_]+)\.py$")


def _migration_of(module: object, where: str) -> Migration:
    migration = getattr(module, "migration", None)
    if not isinstance(migration, Migration):
        raise MigrationDefinitionError(where, "the module defines no `migration = Migration(...)`")
    return migration


@cache
def builtin_migrations() -> tuple[Migration, ...]:
    """agentsdb's own schema migrations, in order (loaded once per process)."""
    return tuple(
        _migration_of(importlib.import_module(f"{__name__}.{name}"), name)
        for name in BUILTIN_MODULES
    )


def load_migrations(directory: str | Path) -> list[Migration]:
    """Load every ``NNN_description.py`` module of a folder; each defines ``migration``.

    The module's number must equal its migration's id.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise MigrationDefinitionError(str(folder), "migrations folder does not exist")
    migrations = []
    for path in sorted(folder.iterdir()):
        match = MODULE_NAME.match(path.name)
        if match is None:
            continue
        spec = importlib.util.spec_from_file_location(f"agentsdb_user_migrations.{path.stem}", path)
        if spec is None or spec.loader is None:
            raise MigrationDefinitionError(path.name, "cannot be imported")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except MigrationDefinitionError:
            raise
        except Exception as error:
            raise MigrationDefinitionError(path.name, f"cannot be imported: {error!r}") from error
        migration = _migration_of(module, path.name)
        if int(match.group(1)) != migration.version:
            raise MigrationDefinitionError(
                migration.id, f"is defined in {path.name}, whose number says otherwise"
            )
        migrations.append(migration)
    return migrations
