"""The code location as `dagster dev` and `dagster definitions validate` load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from semantic.model.loader import load_model
from testio_assets.definitions import defs

pytestmark = pytest.mark.slow  # `dagster definitions validate` as a process

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate_passes(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    env.pop("TESTIO_CUSTOMER_API_TOKEN", None)
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "All code locations passed validation" in completed.stdout + completed.stderr


def test_every_asset_carries_the_metadata_the_ui_shows():
    graph = defs.resolve_asset_graph()
    names = {key.to_user_string() for key in graph.get_all_asset_keys()}
    saved_queries = {f"metrics/{name}" for name in load_model().saved_queries}
    assert names == {"products", "features", "tests", "test_features", "test_platforms", "bugs", "users",
                     *saved_queries}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        metric = key.to_user_string() in saved_queries
        assert node.freshness_policy is not None, key
        assert node.group_name == ("metrics" if metric else "testio"), key
        assert set(node.kinds) == ({"duckdb", "sql"} if metric else {"duckdb", "python"}), key
        assert node.description, key
        assert node.owners, key
        schema = node.metadata["dagster/column_schema"]
        assert isinstance(schema, dg.TableSchema) and schema.columns, key
        assert node.metadata["dagster/table_name"] == ".".join(key.path)


def test_sensors_run_by_default():
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"testio_automation", "freshness_alerts", "dead_run_sweeper"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
