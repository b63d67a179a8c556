"""The migration engine: plan, validate, apply, roll back, rehearse and repair migrations."""

from agentsdb.migrator.engine import Migrator

__all__ = ["Migrator"]
