"""No credential anywhere: a distinctive token, given every way the project accepts one, never
reaches the event log, the instance's storage, compute logs, a process's output, the warehouse
or its read copy; a base URL carrying credentials is refused before anything runs."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from reliability_support import demo_environment, make_sim, materialize, run_demo

from testio_assets.client import TestIOConfigError
from testio_assets.client.resource import TestIOApiResource

pytestmark = pytest.mark.slow  # real runs scanned for the token, in processes

TOKEN = "tk-LEAK-7f3a9c2e5b1d-canary"
URL_SECRET = "pw-LEAK-91c0d4e8-canary"


def _forms(secret: str) -> list[bytes]:
    """The secret as text, and as httpx would send it inside Basic auth."""
    return [secret.encode(), base64.b64encode(f"user:{secret}".encode()), base64.b64encode(secret.encode())]


def _files_holding(root: Path, secret: str) -> list[str]:
    forms = _forms(secret)
    return [
        str(path.relative_to(root)) for path in root.rglob("*")
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    ]


def _warehouse_cells_holding(database: Path, secret: str) -> list[str]:
    """Every text cell of every table of every schema (the metric tables' too), searched in SQL
    (DuckDB may compress what it stores)."""
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'VARCHAR[]', 'JSON')"
        ).fetchall()
        for schema, table, column in columns:
            hits = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                [f"%{secret}%"],
            ).fetchone()[0]
            if hits:
                found.append(f"{schema}.{table}.{column}")
    return found


def test_the_token_from_the_environment_reaches_nothing_a_run_leaves(tmp_path):
    sim = make_sim(token=TOKEN)
    with sim.serve() as base_url:
        env = demo_environment(
            tmp_path, TESTIO_CUSTOMER_API_TOKEN=TOKEN, TESTIO_CUSTOMER_API_BASE_URL=base_url
        )
        completed = run_demo(env)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "succeeded" in completed.stdout
    assert sim.request_log and all(r.status == 200 for r in sim.request_log)  # the token was used
    assert all(form not in (completed.stdout + completed.stderr).encode() for form in _forms(TOKEN))
    assert list((tmp_path / ".dagster").rglob("index.db")), "the instance stored its runs here"
    assert _files_holding(tmp_path, TOKEN) == []
    warehouse = tmp_path / "data" / "testio.duckdb"
    for database in (warehouse, warehouse.with_name("testio.read.duckdb")):
        assert _warehouse_cells_holding(database, TOKEN) == []


def test_a_base_url_with_credentials_is_refused_before_anything_runs(tmp_path):
    sim = make_sim(token=TOKEN)
    with sim.serve() as base_url:
        leaky = base_url.replace("http://", f"http://user:{URL_SECRET}@")
        env = demo_environment(
            tmp_path, TESTIO_CUSTOMER_API_TOKEN=TOKEN, TESTIO_CUSTOMER_API_BASE_URL=leaky
        )
        completed = run_demo(env, timeout=120)
    assert completed.returncode == 2
    assert "TESTIO_CUSTOMER_API_BASE_URL holds credentials" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not sim.request_log  # nothing was sent anywhere
    output = (completed.stdout + completed.stderr).encode()
    assert all(form not in output for form in _forms(URL_SECRET) + _forms(TOKEN))
    assert _files_holding(tmp_path, URL_SECRET) == []


def test_a_base_url_with_credentials_is_refused_without_echoing_them(monkeypatch):
    leaky = f"https://user:{URL_SECRET}@api.test.io/customer/v2"
    with pytest.raises(ValueError) as caught:  # pydantic's, at construction
        TestIOApiResource(token=TOKEN, base_url=leaky)
    assert "holds credentials" in str(caught.value) and URL_SECRET not in str(caught.value)
    monkeypatch.setenv("TESTIO_CUSTOMER_API_BASE_URL", leaky)
    with pytest.raises(TestIOConfigError) as caught:
        TestIOApiResource(token=TOKEN).resolved_base_url()
    assert "https://***@api.test.io" in str(caught.value) and URL_SECRET not in str(caught.value)


def test_a_token_given_through_resource_config_reaches_no_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTIO_OTHER_TOKEN_VARIABLE", TOKEN)
    sim = make_sim(token=TOKEN)
    home = tmp_path / "home"
    home.mkdir()
    with sim.serve() as base_url, dg.instance_for_test(temp_dir=str(home)) as instance:
        api = TestIOApiResource(token=dg.EnvVar("TESTIO_OTHER_TOKEN_VARIABLE"), base_url=base_url)
        result = materialize(api, tmp_path / "testio.duckdb", instance=instance)
        events = "\n".join(repr(e) for e in instance.all_logs(result.run_id))
    assert result.success
    assert TOKEN not in events
    assert list(home.rglob("*.db")) and _files_holding(home, TOKEN) == []
    for database in (tmp_path / "testio.duckdb", tmp_path / "testio.read.duckdb"):
        assert _warehouse_cells_holding(database, TOKEN) == []
