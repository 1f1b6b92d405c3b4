"""Helpers for the reliability tests: the ingestion tests' helpers (real assets, real DuckDB
files, the simulator), plus a demo process with its own instance and the errors steps raised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ingestion.ingestion_support import (  # noqa: F401 - re-exported for the reliability tests
    DATA_TABLES,
    check_results,
    make_sim,
    materialize,
    table_rows,
)
from testio_assets.ops_summary import step_errors

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAST = {"backoff_base_s": 0.01, "timeout_s": 1.0}
FULL_REFRESH = {"full_refresh": True}


def ops_config(**per_op: dict) -> dict:
    """``ops_config(bugs={"full_refresh": True})`` -> run config of those ops."""
    return {"ops": {op: {"config": config} for op, config in per_op.items()}}


def failures(result: dg.ExecuteInJobResult) -> dict[str, tuple[str, str]]:
    """step -> (error class, message) of the error the step's own code raised."""
    return {step: (error.cls_name, error.message) for step, error in step_errors(result).items()}


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
        env[name] = ""  # set, so that a developer's .env cannot put a real token into a test run
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
