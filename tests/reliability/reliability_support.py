"""Helpers for the reliability tests: real assets into real DuckDB files, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from testio_assets.assets import ingestion_assets, ingestion_checks
from testio_assets.client.resource import TestIOApiResource
from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import TABLES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_TABLES = ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users")
FAST = {"backoff_base_s": 0.01, "timeout_s": 1.0}
FULL_REFRESH = {"full_refresh": True}


def make_sim(faults: FaultConfig | None = None, **kwargs: Any) -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=7), faults=faults, **kwargs)


def materialize(
    api: TestIOApiResource,
    database: Path,
    *,
    instance: dg.DagsterInstance | None = None,
    selection: list | None = None,
    run_config: dict | None = None,
    warehouse: dict | None = None,
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        selection or [*ingestion_assets, *ingestion_checks],
        resources={
            "testio_api": api,
            "warehouse": WarehouseResource(database=str(database), **(warehouse or {})),
        },
        instance=instance or dg.DagsterInstance.ephemeral(),
        run_config=run_config,
        raise_on_error=False,
    )


def ops_config(**per_op: dict) -> dict:
    """``ops_config(bugs={"full_refresh": True})`` -> run config of those ops."""
    return {"ops": {op: {"config": config} for op, config in per_op.items()}}


def table_rows(database: Path, tables=DATA_TABLES) -> dict[str, list[tuple]]:
    """Every data table's rows, sorted by primary key."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            name: con.execute(
                f"SELECT * FROM {name} ORDER BY {', '.join(TABLES[name].primary_key)}"
            ).fetchall()
            for name in tables
        }
    finally:
        con.close()


def failures(result: dg.ExecuteInJobResult) -> dict[str, tuple[str, str]]:
    """step -> (error class, message) of the error the step's own code raised."""
    found = {}
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name.startswith("Dagster"):
                error = error.cause
            found[event.step_key] = (error.cls_name, error.message)
    return found


def check_results(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def run_python(code: str, *args: str, timeout: float = 120, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last, returned parsed."""
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def demo_environment(home: Path, **variables: str) -> dict[str, str]:
    """The environment of a `python -m testio_assets.demo` with its own instance (the project's
    dagster.yaml, every storage path under ``home``) and warehouse, plus ``variables``."""
    import yaml

    from testio_assets.instance import _absolute_base_dirs

    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    (home / "dagster.yaml").write_text(yaml.safe_dump(_absolute_base_dirs(config, home)))
    env = {**os.environ, "DAGSTER_HOME": str(home), "TESTIO_WAREHOUSE_PATH": str(home / "data" / "testio.duckdb")}
    for name in ("TESTIO_CUSTOMER_API_TOKEN", "TESTIO_CUSTOMER_API_BASE_URL"):
        env.pop(name, None)
    return {**env, **variables}


def start_demo(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "testio_assets.demo"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_demo(env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """The demo to its end; a run that hangs fails the test after ``timeout`` s instead."""
    return subprocess.run(
        [sys.executable, "-m", "testio_assets.demo"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
