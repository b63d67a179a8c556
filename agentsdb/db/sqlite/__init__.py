"""The embedded SQLite backend (aiosqlite): its connection, transactions, errors and files."""

from agentsdb.db.sqlite.database import SQLiteDatabase, run_program_sync

__all__ = ["SQLiteDatabase", "run_program_sync"]
