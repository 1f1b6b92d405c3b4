"""`make demo`'s command end to end: every asset from the simulator, checks, summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_demo_materialises_everything_and_prints_the_summary(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "TESTIO_WAREHOUSE_PATH": str(tmp_path / "testio.duckdb")}
    env["TESTIO_CUSTOMER_API_TOKEN"] = ""  # set, so that a developer's .env cannot put a real token here
    completed = subprocess.run(
        [sys.executable, "-m", "testio_assets.demo"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    assert out.startswith(f"Dagster instance: {tmp_path / 'dagster.yaml'} (from DAGSTER_HOME; ")
    assert "built-in simulator" in out and "succeeded" in out
    assert ", 0 failed" in out
    for asset in ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users"):
        assert f"  {asset:<16}passing" in out
    with duckdb.connect(str(tmp_path / "testio.read.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM bugs").fetchone()[0] > 10_000
