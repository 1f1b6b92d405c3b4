"""`make demo` as a user with a token in the project's .env runs it: the token and base URL come
from .env (here a simulator served on 127.0.0.1 that requires that token), and a wrong token
fails the run with one typed line, the calls it made, and a non-zero exit.

Each project is a copy in tmp_path (pyproject.toml, dagster.yaml, .env); the demo runs in it
with no TESTIO_* or DAGSTER_HOME variable, so the rule finds that copy and writes only there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from semantic.model.loader import load_model
from ingestion.ingestion_support import make_sim

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tk-dotenv-demo-3c9e"


def _project(tmp_path: Path, dotenv: str) -> Path:
    project = tmp_path / "clone"
    project.mkdir()
    for name in ("pyproject.toml", "dagster.yaml"):
        shutil.copy(ROOT / name, project / name)
    (project / ".env").write_text(dotenv)
    return project


def _demo(project: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTIO_") and k != "DAGSTER_HOME"}
    return subprocess.run([sys.executable, "-m", "testio_assets.demo"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)


def _demo_with_dotenv_token(tmp_path: Path, token: str):
    """(simulator, its base URL, project, finished demo): the demo run in a project whose .env names
    ``token`` and a simulator served on 127.0.0.1 that accepts only TOKEN."""
    sim = make_sim(token=TOKEN)
    with sim.serve() as base_url:
        project = _project(tmp_path, f"TESTIO_CUSTOMER_API_TOKEN={token}\nTESTIO_CUSTOMER_API_BASE_URL={base_url}\n")
        return sim, base_url, project, _demo(project)


@pytest.mark.slow  # a make demo process
def test_the_demo_reads_the_token_and_base_url_from_dotenv(tmp_path):
    sim, base_url, project, done = _demo_with_dotenv_token(tmp_path, TOKEN)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith(f"Read {project / '.env'}: TESTIO_CUSTOMER_API_TOKEN, TESTIO_CUSTOMER_API_BASE_URL\n")
    assert f"Materialising every TestIO asset from TestIO API at {base_url} ..." in done.stdout
    assert "succeeded" in done.stdout and TOKEN not in done.stdout + done.stderr
    with duckdb.connect(str(project / "data" / "testio.read.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM products").fetchone()[0] == len(sim.products_payload())


@pytest.mark.slow  # a make demo process
def test_a_wrong_token_in_dotenv_fails_in_one_typed_line_with_the_calls_made(tmp_path):
    _, base_url, _, done = _demo_with_dotenv_token(tmp_path, f"not-{TOKEN}")
    assert done.returncode == 1
    out = done.stdout
    failed = [line for line in out.splitlines() if line.startswith("FAILED step")]
    assert failed == [f"FAILED step products: TestIOAuthError (TestIO API at {base_url}): the API rejected the token "
                      f"(HTTP 401 on products at {base_url}): check TESTIO_CUSTOMER_API_TOKEN: it must hold a valid "
                      f"TestIO customer API token (no quotes, no 'Token ' prefix, not expired or revoked); unset "
                      f"TESTIO_CUSTOMER_API_TOKEN to use the built-in simulator instead"]
    assert "\nproducts            failed           1\ntotal                                1\n" in out
    not_run = sorted(["bugs", "features", "test_features", "test_platforms", "tests", "users",
                      *(f"metrics/{name}" for name in load_model().saved_queries)])
    assert f"Not run, as they depend on a failed step: {', '.join(not_run)}" in out
    assert "Done in" not in out and "Next:" not in out
    assert "Fix the cause named above, then run `make demo` again" in out
    for noise in ("Traceback", "Stack Trace", "Not executing", "STEP_FAILURE"):
        assert noise not in out + done.stderr
    assert TOKEN not in out + done.stderr
