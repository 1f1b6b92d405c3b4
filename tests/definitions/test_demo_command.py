"""`make demo`'s command end to end: every asset from the simulator, checks, summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest


pytestmark = pytest.mark.slow  # `make demo` as a process

from semantic.model.loader import load_model

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
    assert ", 0 failed" in out and ", 0 warning(s)" in out
    saved_queries = sorted(load_model().saved_queries)
    for asset in ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users",
                  *(f"metrics/{name}" for name in saved_queries)):
        assert re.search(rf"^  {re.escape(asset)} +passing +warn after", out, re.MULTILINE), asset
    # the metric tables with the day and range their dates resolved to, and their exports
    metrics = out.split("Metric tables (saved queries; dates resolved today, UTC):\n", 1)[1]
    for name in saved_queries:
        assert re.search(rf"^  metrics\.{name}: '.+' on \d{{4}}-\d{{2}}-\d{{2}}.*: \d{{4}}-", metrics, re.MULTILINE), name
    assert f"exported to {tmp_path / 'exports' / 'critical_bugs_by_feature_this_quarter.csv'}" in metrics
    with duckdb.connect(str(tmp_path / "testio.read.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM bugs").fetchone()[0] > 10_000
        assert con.execute("SELECT count(*) FROM metrics.bugs_per_test_by_month").fetchone()[0] >= 12
