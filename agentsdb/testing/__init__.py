"""Helpers for testing applications built on agentsdb: see ``pytest_plugin``."""
