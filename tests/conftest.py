"""Fixtures for the whole suite: a real PostgreSQL, started on first use (see postgres_support)."""

pytest_plugins = ["postgres_support"]
