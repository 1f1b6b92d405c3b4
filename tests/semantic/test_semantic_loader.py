"""Model loading and validation: every mistake names file, line, problem and a suggestion."""

from __future__ import annotations

import duckdb
import pytest

from model_files import copy_models, edit
from semantic.errors import ModelValidationError
from semantic.model.loader import load_model, validate_against_warehouse
from warehouse_fixtures import build_warehouse


def test_shipped_model_is_valid_and_matches_the_warehouse_schema():
    model = load_model()
    assert len([m for m in model.metrics.values() if not m.hidden]) == 13
    assert len(model.dimensions) == 19
    validate_against_warehouse(model, build_warehouse(duckdb.connect()))
    assert load_model() is model  # cached


def test_unknown_column_with_line_and_suggestion(tmp_path):
    root = copy_models(tmp_path)
    line = edit(root / "bugs.yaml", "key: severity", "key: severty")
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    msg = str(info.value)
    assert "unknown column 'severty'" in msg and "did you mean 'severity'" in msg
    assert f"bugs.yaml:{line}" in msg


def test_metric_filter_column_typo(tmp_path):
    root = copy_models(tmp_path)
    line = edit(root / "tests.yaml", "filter: created_by IS NOT NULL", "filter: creatd_by IS NOT NULL")
    with pytest.raises(ModelValidationError, match=rf"tests_created at .*tests.yaml:{line}; did you mean|tests.yaml:{line}"):
        load_model(root)


def test_malformed_yaml_reports_file_and_line(tmp_path):
    root = copy_models(tmp_path)
    (root / "broken.yaml").write_text("metrics:\n  - name: x\n    type: [unclosed\n")
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert "malformed YAML" in str(info.value) and info.value.file.endswith("broken.yaml") and info.value.line >= 3


@pytest.mark.parametrize("yaml_text, fragment", [
    ("metrics:\n  - name: r\n    type: ratio\n    numerator: bug_cont\n    denominator: test_count\n",
     "unknown metric 'bug_cont' referenced by metric r; did you mean 'bug_count'"),
    ("metrics:\n  - name: a\n    type: derived\n    inputs: [b]\n    expr: b\n  - name: b\n    type: derived\n    inputs: [a]\n    expr: a\n",
     "metric cycle"),
    ("metrics:\n  - name: bug_count\n    type: count\n    model: bugs\n    expr: bug_id\n", "duplicate metric 'bug_count'"),
    ("metrics:\n  - name: x\n    type: median\n    model: bugs\n    expr: bug_id\n", "bad metric type 'median'"),
    ("metrics:\n  - name: x\n    type: count\n    model: bug\n    expr: bug_id\n", "did you mean 'bugs'"),
    ("metrics:\n  - name: x\n    type: count\n    model: bugs\n    expr: bug_id\n    filtr: x\n", "unknown field 'filtr'"),
    ("semantic_models:\n  - name: t2\n    table: t2\n    primary_key: [a]\n    columns: {a: integer}\n"
     "    joins:\n      - to: tests\n        type: many_to_many_ish\n        on: {a: test_id}\n", "bad cardinality"),
    ("semantic_models:\n  - name: t2\n    table: t2\n    primary_key: [a]\n    columns: {a: integer}\n"
     "    joins:\n      - to: testz\n        type: many_to_one\n        on: {a: test_id}\n", "unknown join target 'testz'"),
    ("metrics:\n  - name: x\n    type: sum\n    model: bugs\n    expr: 'severity +'\n", "invalid SQL expression"),
])
def test_structural_mistakes(tmp_path, yaml_text, fragment):
    root = copy_models(tmp_path)
    (root / "extra.yaml").write_text(yaml_text)
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert fragment in str(info.value)
    assert "extra.yaml:" in str(info.value)


def test_derived_metric_is_supported(tmp_path):
    root = copy_models(tmp_path)
    (root / "extra.yaml").write_text(
        "metrics:\n  - name: non_rejected_bugs\n    type: derived\n"
        "    inputs: [bug_count, {metric: bug_count, filter: \"status = 'rejected'\", alias: rejected}]\n"
        "    expr: bug_count - rejected\n")
    model = load_model(root)
    from semantic import query_metrics
    from warehouse_fixtures import golden_rows
    con = build_warehouse(duckdb.connect(), **golden_rows())
    assert query_metrics(["non_rejected_bugs"], warehouse=con, model=model).df.iloc[0, 0] == 7


def test_against_warehouse_reports_missing_columns():
    con = duckdb.connect()
    build_warehouse(con)
    con.execute("ALTER TABLE bugs RENAME COLUMN severity TO sev")
    with pytest.raises(ModelValidationError, match="unknown column 'severity' in semantic model bugs"):
        validate_against_warehouse(load_model(), con)


def test_scope_and_filter_wording_comes_from_the_yaml(tmp_path):
    from semantic import capabilities, explain

    root = copy_models(tmp_path)
    edit(root / "tests.yaml", "entity: test\n    entities: tests", "entity: cycle\n    entities: cycles")
    edit(root / "tests.yaml", "description: executed tests", "description: cycles that ran")
    edit(root / "bugs.yaml", "entity: bug\n", "entity: finding\n")
    edit(root / "test_platforms.yaml", "a platform filter keeps a test", "a platform filter keeps a cycle")
    model = load_model(root)
    words = explain(["bugs_per_test"], ["month"], filters={"platform": "Android", "severity": "critical"},
                    start_date="2025-02-01", model=model)
    assert "Cycles in scope: cycles whose status is one of" in words.explanation
    assert "(cycles that ran; a test_status filter would replace this default)" in words.explanation
    assert "Date range: cycles whose end_at (UTC) is in [2025-02-01 00:00:00, now)" in words.explanation
    assert "A platform filter keeps a cycle when any of its platforms matches." in words.explanation
    assert "is on a finding-only dimension: it restricts the finding counts but not test_count" in words.warnings[0]
    caps = capabilities(model)
    assert caps["filters"]["scope"].startswith("cycles in scope by default: cycles that ran (test_status in ")
    assert caps["dimensions"]["severity"]["grain"] == "finding"


def test_a_second_default_scope_is_refused(tmp_path):
    root = copy_models(tmp_path)
    line = edit(root / "bugs.yaml", "    primary_key: [bug_id]\n",
                "    primary_key: [bug_id]\n    default_scope: {dimension: severity, values: [critical]}\n")
    with pytest.raises(ModelValidationError, match="only one semantic model may have a default_scope"):
        load_model(root)
    assert line > 0
