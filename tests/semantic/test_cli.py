"""The ``testio-semantic`` command line, run as a real subprocess against a small warehouse file."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from semantic import capabilities
from warehouse_fixtures import build_warehouse, golden_rows

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("testio-semantic")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "semantic", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "golden.duckdb"
    build_warehouse(path, **golden_rows())
    return str(path)


def query(warehouse: str, *args: str) -> subprocess.CompletedProcess:
    return run("query", "--warehouse", warehouse, "--today", "2025-03-15", *args)


def test_query_as_json(warehouse):
    done = query(warehouse, "--metrics", "test_count,bug_count,bugs_per_test", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"test_count": 4, "bug_count": 10, "bugs_per_test": 2.5}]


def test_query_grouped_filtered_ordered_as_csv(warehouse):
    done = query(warehouse, "--metrics", "bug_count", "--group-by", "severity", "--where", "bug_status=accepted|rejected",
                 "--order", "-bug_count", "--output", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["severity"], r["bug_count"]) for r in rows] == [("low", "3"), ("critical", "2"), ("high", "2")] or \
        [(r["severity"], r["bug_count"]) for r in rows] == [("low", "3"), ("high", "2"), ("critical", "2")]


def test_query_ascending_order_limit_and_table(warehouse):
    done = query(warehouse, "--metrics", "bug_count", "--group-by", "severity", "--order", "bug_count", "--limit", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split() == ["severity", "bug_count"]
    assert lines[1].split() in (["critical", "2"], ["high", "2"])
    assert len(lines) == 2


def test_where_null_and_boolean_and_relative_dates(warehouse):
    done = query(warehouse, "--metrics", "bug_count", "--where", "rejection_reason=null", "--where", "known_bug=false",
                 "--start", "last month", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"bug_count": 7}]
    done = query(warehouse, "--metrics", "test_count", "--start", "2025-02-02", "--end", "2025-02-03", "--output", "json")
    assert json.loads(done.stdout) == [{"test_count": 2}]


def test_bug_filter_on_a_test_metric_warns_on_stderr(warehouse):
    done = query(warehouse, "--metrics", "bugs_per_test", "--where", "severity=critical", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"bugs_per_test": 0.5}]
    assert "warning:" in done.stderr


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery", "trino", "spark"])
def test_explain_prints_sql_without_a_warehouse(dialect, tmp_path):
    done = run("query", "--metrics", "bug_count", "--group-by", "month", "--explain", "--dialect", dialect,
               "--warehouse", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 0, done.stderr
    assert "SELECT" in done.stdout.upper()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--metrics", "bug_cnt"), "bug_count"),
        (("--metrics", "bug_count", "--group-by", "severty"), "severity"),
        (("--metrics", "test_count", "--group-by", "severity"), "severity"),
        (("--metrics", "bug_count", "--start", "next week"), "Accepted forms"),
        (("--metrics", "bug_count", "--where", "severity"), "dimension=value"),
        (("--metrics", "bug_count", "--output", "xml"), "invalid choice"),
        (("--metrics", "bug_count", "--limit", "ten"), "invalid int"),
    ],
)
def test_mistakes_are_one_line_on_stderr_with_exit_2(warehouse, args, needle):
    done = query(warehouse, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr


def test_missing_warehouse_is_a_clear_error(tmp_path):
    done = run("query", "--metrics", "bug_count", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("what", ["metrics", "dimensions"])
def test_list(what):
    done = run("list", what, "--output", "json")
    assert done.returncode == 0, done.stderr
    names = {row["name"] for row in json.loads(done.stdout)}
    assert {"bug_count", "bugs_per_test", "auto_acceptance_rate"} <= names if what == "metrics" else \
        {"feature", "week", "severity", "known_bug"} <= names
    table = run("list", what)
    assert table.returncode == 0 and table.stdout.splitlines()[0].startswith("name")


def test_list_metrics_shows_the_formulas_capabilities_show():
    rows = {r["name"]: r for r in json.loads(run("list", "metrics", "--output", "json").stdout)}
    assert "status = 'auto_accepted'" in rows["auto_acceptance_rate"]["formula"]
    formulas = {name: m["sql"] for name, m in capabilities()["metrics"].items()}
    assert {name: row["formula"] for name, row in rows.items()} == formulas


def test_validate_against_the_warehouse(warehouse):
    done = run("validate", "--warehouse", warehouse)
    assert done.returncode == 0, done.stderr
    assert "warehouse" in done.stdout


def test_validate_reports_file_and_line(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "semantic" / "models", models)
    bugs = models / "bugs.yaml"
    bugs.write_text(bugs.read_text().replace("key: severity", "key: severty", 1))
    done = run("validate", "--models", str(models), "--warehouse", str(tmp_path / "none.duckdb"))
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[0]
    assert "bugs.yaml:" in line and "severty" in line and "did you mean" in line


def test_validate_finds_a_table_typo_in_the_warehouse_at_its_line(tmp_path, warehouse):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "semantic" / "models", models)
    tests = models / "tests.yaml"
    tests.write_text(tests.read_text().replace("    table: tests\n", "    table: testz\n", 1))
    assert run("validate", "--models", str(models), "--warehouse", str(tmp_path / "none.duckdb")).returncode == 0
    done = run("validate", "--models", str(models), "--warehouse", warehouse)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"{tests}:4: table 'testz' of semantic model tests is not in the warehouse; "
                                        f"did you mean 'tests'?"]


def test_console_script_and_module_agree(warehouse):
    if not SCRIPT.exists():
        pytest.skip("the testio-semantic entry point is not installed in this environment")
    done = subprocess.run([str(SCRIPT), "list", "dimensions", "--output", "json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout) == json.loads(run("list", "dimensions", "--output",
                                                                              "json").stdout)
