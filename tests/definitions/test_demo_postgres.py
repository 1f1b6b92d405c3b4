"""`make demo` with TESTIO_WAREHOUSE_URL pointing at a real PostgreSQL: the ingestion assets
and their checks load the server, and the summary names it without its password."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from semantic.model.loader import load_model

pytestmark = pytest.mark.slow  # `make demo` as a process, a real PostgreSQL

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INGESTION = ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users")


@pytest.fixture(scope="module")
def demo(postgres_server, tmp_path_factory):
    home = tmp_path_factory.mktemp("demo_postgres")
    database = postgres_server.create_database("demo")
    url = postgres_server.url(database)
    env = {**os.environ, "DAGSTER_HOME": str(home), "TESTIO_WAREHOUSE_URL": url,
           "TESTIO_WAREHOUSE_PATH": str(home / "not-this.duckdb"), "TESTIO_EXPORTS_DIR": str(home / "exports")}
    env["TESTIO_CUSTOMER_API_TOKEN"] = ""  # set, so that a developer's .env cannot put a real token here
    completed = subprocess.run(
        [sys.executable, "-m", "testio_assets.demo"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    yield completed, url, home, postgres_server.password
    postgres_server.drop_database(database)


def test_demo_loads_every_ingestion_table_into_postgres(demo):
    completed, url, home, password = demo
    out = completed.stdout
    assert re.search(r"^Warehouse: postgresql://postgres:\*\*\*@127\.0\.0\.1:\d+/demo_\w+ \(TESTIO_WAREHOUSE_URL\)",
                     out, re.MULTILINE), out[-3000:]
    for asset in INGESTION:
        assert re.search(rf"^{asset} +\d+ +(\d+|-)$", out, re.MULTILINE), (asset, out[-3000:])
        assert re.search(rf"^  {re.escape(asset)} +passing +warn after", out, re.MULTILINE), asset
    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute("SELECT count(*) FROM bugs")
        assert cur.fetchone()[0] > 10_000
        cur.execute("SELECT table_name FROM _table_loads")
        assert set(INGESTION) <= {name for (name,) in cur.fetchall()}
    assert password not in completed.stdout + completed.stderr
    # no DuckDB file, no read copy: the server is the warehouse
    assert not list(home.glob("*.duckdb"))


def test_demo_on_postgres_materialises_the_metric_tables_too(demo):
    completed, url, _, _ = demo
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    with psycopg2.connect(url) as con, con.cursor() as cur:
        for name in load_model().saved_queries:
            cur.execute(f'SELECT count(*) FROM metrics."{name}"')
