"""The ``testio-semantic`` command line against a small warehouse file: run in this process
(its ``main``, as the console script calls it) for speed, and as real processes where the process
itself is the subject (the console script and ``python -m semantic``; the CLI from other folders
is tests/semantic/test_project_paths.py's)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from semantic import capabilities, query_metrics
from semantic.surfaces.cli import main
from warehouse_fixtures import build_warehouse, golden_rows

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("testio-semantic")


def run_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python -m semantic ARGS`` as its own process."""
    return subprocess.run([sys.executable, "-m", "semantic", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The command line's ``main`` in this process, from ``cwd``: its exit code and what it printed."""
    out, err, before = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(["testio-semantic", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "golden.duckdb"
    build_warehouse(path, **golden_rows())
    return str(path)


def query(warehouse: str, *args: str) -> subprocess.CompletedProcess:
    return run("query", "--warehouse", warehouse, "--today", "2025-03-15", *args)


@pytest.mark.slow  # python -m semantic as its own process
def test_query_as_json_from_python_m_semantic(warehouse):
    done = run_process("query", "--warehouse", warehouse, "--today", "2025-03-15",
                       "--metrics", "test_count,bug_count,bugs_per_test", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"test_count": 4, "bug_count": 10, "bugs_per_test": 2.5}]
    assert json.loads(done.stdout) == json.loads(query(warehouse, "--metrics", "test_count,bug_count,bugs_per_test",
                                                       "--output", "json").stdout)


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


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    """The command line run in this process (no interpreter start): exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, needle", [
    (("--saved-query", "bugs_per_test_by_month", "--metrics", "bug_count", "--limit", "3"),
     "--saved-query is a whole question and takes no --metrics, --limit"),
    (("--saved-query", "bugs_per_tst_by_month"), "did you mean 'bugs_per_test_by_month'?"),
    ((), "give --metrics (see `testio-semantic list metrics`) or --saved-query"),
])
def test_saved_query_mistakes_are_one_line_with_exit_2(warehouse, capsys, args, needle):
    code, out, err = in_process(capsys, "query", "--warehouse", warehouse, *args)
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and needle in err


def test_query_a_saved_query_as_csv_says_how_its_dates_resolved(warehouse, capsys):
    code, out, err = in_process(capsys, "query", "--saved-query", "critical_bugs_by_feature_this_quarter",
                                "--output", "csv", "--warehouse", warehouse, "--today", "2025-03-15")
    assert code == 0, err
    expected = query_metrics(saved_query="critical_bugs_by_feature_this_quarter", warehouse=warehouse,
                             today="2025-03-15").df
    assert out == expected.to_csv(index=False, lineterminator="\n")
    assert err.splitlines()[0] == ("saved query critical_bugs_by_feature_this_quarter: 'this quarter' on "
                                   "2025-03-15: 2025-01-01 00:00 UTC to 2025-03-16 00:00 UTC (exclusive)")


def test_list_saved_queries(capsys):
    described = json.loads(in_process(capsys, "list", "saved-queries", "--output", "json")[1])
    assert described == list(capabilities()["saved_queries"].values())
    table = in_process(capsys, "list", "saved-queries")[1].splitlines()
    assert table[0].split() == ["name", "metrics", "group_by", "where", "dates", "exports", "description"]
    row = next(line for line in table if line.startswith("critical_bugs_by_feature_this_quarter"))
    assert "severity=critical" in row and "this quarter" in row and "critical_bugs_by_feature_this_quarter.csv" in row


def test_export_a_fresh_answer_in_each_format(warehouse, tmp_path, capsys):
    expected = query_metrics(saved_query="bug_review_rates_by_product_and_month", warehouse=warehouse,
                             today="2025-03-15").df
    assert len(expected) == 1 and expected["auto_acceptance_rate"].iloc[0] == 2 / 6
    for fmt in ("csv", "parquet", "json"):
        target = tmp_path / "out" / f"rates.{fmt}"
        arguments = ("export", "bug_review_rates_by_product_and_month", "--format", fmt, "--output", str(target),
                     "--fresh", "--today", "2025-03-15", "--warehouse", warehouse)
        if fmt == "csv":  # once from a shell, as a user runs it
            done = run(*arguments, cwd=tmp_path)
            code, out, err = done.returncode, done.stdout, done.stderr
        else:
            code, out, err = in_process(capsys, *arguments)
        assert code == 0, err
        assert out.startswith(f"wrote 1 rows of bug_review_rates_by_product_and_month to {target} (answered now, "
                              f"'12 months ago' .. 'today' on 2025-03-15")
        if fmt == "csv":
            assert target.read_text() == expected.to_csv(index=False, lineterminator="\n")
        elif fmt == "parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(target), expected, check_dtype=False)
        else:
            assert json.loads(target.read_text()) == [
                {"product": "Golden product", "product_id": 1001, "month": "2025-02", "overall_acceptance_rate": 0.6,
                 "rejection_rate": 0.3, "auto_acceptance_rate": 2 / 6, "bug_count": 10}]
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_validate_plans_every_saved_query(tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "semantic" / "models", models)
    saved = models / "saved_queries.yaml"
    saved.write_text(saved.read_text().replace("where: {severity: critical}", "where: {severity: critcal}"))
    code, out, err = in_process(capsys, "validate", "--models", str(models), "--warehouse", str(tmp_path / "none"))
    assert (code, out) == (1, "")
    assert err.startswith(f"{saved}:20: saved query critical_bugs_by_feature_this_quarter cannot be answered: ")
    assert "did you mean 'critical'?" in err


def test_export_of_a_table_not_materialised_says_how_to_get_one(warehouse, capsys):
    code, _, err = in_process(capsys, "export", "bugs_per_test_by_month", "--format", "csv", "--warehouse", warehouse)
    assert code == 2 and "has not been materialised in this warehouse" in err
    assert "--fresh" in err and not (Path(warehouse).parent / "exports").exists()


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


@pytest.mark.slow  # the installed console script as its own process
def test_console_script_and_module_agree(warehouse):
    if not SCRIPT.exists():
        pytest.skip("the testio-semantic entry point is not installed in this environment")
    done = subprocess.run([str(SCRIPT), "list", "dimensions", "--output", "json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout) == json.loads(run("list", "dimensions", "--output",
                                                                              "json").stdout)


def test_every_unknown_name_is_reported_at_once_each_with_its_suggestion(warehouse):
    done = query(warehouse, "--metrics", "bug_cnt,tests_count", "--group-by", "severty", "--where", "prodct=1")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines), done.stderr
    for wrong, right in [("bug_cnt", "bug_count"), ("tests_count", "test_count"), ("severty", "severity"),
                         ("prodct", "product")]:
        assert any(f"{wrong!r}; did you mean {right!r}?" in line for line in lines), (wrong, done.stderr)


def test_a_null_group_is_none_in_a_table_and_null_in_csv_and_json(warehouse):
    args = ("--metrics", "bug_count", "--group-by", "rejection_reason", "--order", "rejection_reason")
    table = query(warehouse, *args)
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.strip().splitlines()[1:]]
    assert rows == [["(none)", "7"], ["not_reproducible", "3"]] or rows == [["not_reproducible", "3"], ["(none)", "7"]]
    assert "NaN" not in table.stdout and "<NA>" not in table.stdout
    as_csv = list(csv.DictReader(io.StringIO(query(warehouse, *args, "--output", "csv").stdout)))
    assert {r["rejection_reason"]: r["bug_count"] for r in as_csv} == {"": "7", "not_reproducible": "3"}
    as_json = json.loads(query(warehouse, *args, "--output", "json").stdout)
    assert {r["rejection_reason"]: r["bug_count"] for r in as_json} == {None: 7, "not_reproducible": 3}


def test_list_dimension_values_counts_each_value_of_label_and_id(warehouse):
    done = run("list", "dimension-values", "severity", "--warehouse", warehouse, "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"severity": "critical", "bug_count": 2}, {"severity": "high", "bug_count": 2},
                                       {"severity": "low", "bug_count": 6}]
    product = run("list", "dimension-values", "product", "--warehouse", warehouse, "--output", "json")
    assert json.loads(product.stdout) == [{"product": "Golden product", "product_id": 1001, "test_count": 4}]
    testers = run("list", "dimension-values", "submitted_by", "--metric", "tests_submitted", "--warehouse", warehouse)
    assert testers.returncode == 0, testers.stderr
    assert [line.split() for line in testers.stdout.splitlines()] == [
        ["submitted_by", "submitted_by_id", "tests_submitted"], ["alice", "customer:alice", "3"],
        ["bob", "customer:bob", "1"]]
    wrong = run("list", "dimension-values", "severty", "--warehouse", warehouse)
    assert wrong.returncode == 2 and "did you mean 'severity'?" in wrong.stderr


def test_models_points_query_list_and_values_at_another_model_folder(tmp_path, warehouse):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "semantic" / "models", models)
    bugs = models / "bugs.yaml"
    bugs.write_text(bugs.read_text().replace("metrics:\n", "metrics:\n  - name: defects\n    description: Bugs, "
                                             "in our words.\n    type: count_distinct\n    model: bugs\n"
                                             "    expr: bug_id\n\n", 1))
    done = query(warehouse, "--models", str(models), "--metrics", "defects", "--where", "severity=low",
                 "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"defects": 6}]
    assert "defects" in run("list", "metrics", "--models", str(models)).stdout
    values = run("list", "dimension-values", "severity", "--metric", "defects", "--models", str(models),
                 "--warehouse", warehouse, "--output", "csv")
    assert values.stdout.splitlines()[0] == "severity,defects"


def test_readers_connections_draw_no_progress_bar(warehouse):
    from semantic.answer.warehouse import open_warehouse

    with open_warehouse(warehouse) as con:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
