"""Fixtures for the deployment tests: a Dagster home configured by testio_assets/deploy/dagster.postgres.yaml
on the session's PostgreSQL, with its settings in the environment as a deployment sets them."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from deployment_support import POSTGRES_YAML, PROJECT_ROOT

# The alert tests' webhook receiver, importable when these tests run alone.
sys.path.insert(0, str(PROJECT_ROOT / "tests" / "alerts"))
from alerts_harness import Receiver, serve_receiver  # noqa: E402


@pytest.fixture
def postgres_home(tmp_path, monkeypatch, postgres_server, postgres_database) -> Path:
    """A DAGSTER_HOME holding the shipped Postgres dagster.yaml, its variables set."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(POSTGRES_YAML, home / "dagster.yaml")
    for name, value in {
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USERNAME": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": postgres_database,
    }.items():
        monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on 127.0.0.1 recording what the alert sensor posts."""
    with serve_receiver() as running:
        yield running
