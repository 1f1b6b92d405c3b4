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


# Each edit breaks the declared schema; the error names the file and the edited line, what is
# wrong and how to fix it. None of these may load, and none may raise anything but
# ModelValidationError.
@pytest.mark.parametrize("file, old, new, fragments", [
    ("bugs.yaml", "allowed_values: [critical, high, low, visual, content, custom]", "allowed_values: 5",
     ["allowed_values of dimension severity must be a list, got 5"]),
    ("bugs.yaml", "allowed_values: [critical, high, low, visual, content, custom]", "allowed_values: critical",
     ["must be a list, got 'critical' (text); write a list, even of one item: [critical]"]),
    ("bugs.yaml", "primary_key: [bug_id]", "primary_key: 5", ["primary_key of semantic model bugs must be a list"]),
    # one rule for lists: [test_id, operating_system_id] cut to test_id must not become another key
    ("test_platforms.yaml", "primary_key: [test_id, operating_system_id]", "primary_key: test_id",
     ["primary_key of semantic model test_platforms must be a list, got 'test_id' (text); write a list, even of "
      "one item: [test_id]"]),
    ("tests.yaml", "    default_scope:\n", "    default_scope: executed\n    default_scopes:\n",
     ["default_scope of semantic model tests must be a mapping of fields, got 'executed'"]),
    ("test_features.yaml", "    overrides:\n      test_features: feature_id\n      bugs: feature_id\n",
     "    overrides:\n      - test_features\n      - bugs\n", ["overrides of dimension feature must be a mapping, got a list"]),
    ("tests.yaml", "  - name: customer", "  - nme: customer",
     ["dimension #4 lacks the required field 'name'", "unknown field 'nme' in dimension #4; did you mean 'name'?"]),
    ("tests.yaml", "    filter: created_by IS NOT NULL", "    hidden: 'no'\n    filter: created_by IS NOT NULL",
     ["hidden of metric tests_created must be true or false, got 'no' (text); write true or false without quotes"]),
    ("bugs.yaml", "    key: known\n", "    key: known\n    value_type: bool\n",
     ["bad value type 'bool' in dimension known_bug (valid: integer, string, boolean, timestamp, float); "
      "did you mean 'boolean'?"]),
    ("tests.yaml", "  - name: customer", "  - name: null", ["name of dimension #4 must be text, got an empty value"]),
    ("tests.yaml", "    table: tests\n", "    table: tests\n    table: testz\n",
     ["duplicate key 'table' (first at line 4); YAML would keep only the last one"]),
    ("ratios.yaml", "    numerator: bug_count\n", "    inputs: 5\n    numerator: bug_count\n",
     ["unknown field 'inputs' in metric bugs_per_test (allowed: name, description, hidden, type, numerator, "
      "denominator)"]),
    ("ratios.yaml", "    type: ratio\n    numerator: bug_count\n", "    type: ratio\n    numerator: 5\n",
     ["numerator of metric bugs_per_test must be a metric name or {metric: name, filter: ..., alias: ...}"]),
    ("ratios.yaml", "    type: ratio\n    numerator: bug_count\n", "    type: ratoi\n    numerator: bug_count\n",
     ["bad metric type 'ratoi' in metric bugs_per_test", "did you mean 'ratio'?"]),
    ("tests.yaml", "      end_at: timestamp\n", "      end_at: timestmp\n",
     ["bad column type 'timestmp' in semantic model tests", "did you mean 'timestamp'?"]),
    ("tests.yaml", "granularities: [day, week, month, quarter, year]", "granularities: [day, wek, month]",
     ["bad granularity 'wek' in time dimension test_end", "did you mean 'week'?"]),
    ("tests.yaml", "      values: [running, locked", "      values: [runing, locked",
     ["value 'runing' of default_scope of tests is not an allowed value of test_status; did you mean 'running'?"]),
    ("tests.yaml", "      values: [running, locked", "      values: [5, locked",
     ["5 in values of default_scope of tests is not of the dimension's type string"]),
    ("bugs.yaml", "    allowed_values: [true, false]", "    allowed_values: [true, 'no']",
     ["'no' in allowed_values of dimension known_bug is not of the dimension's type boolean"]),
    ("tests.yaml", "    label: {expr: products.name, lookup: [products]}", "    label: products.name",
     ["label of dimension product must be a mapping of fields"]),
    ("tests.yaml", "    key: created_by", "    key: 5", ["key of dimension created_by must be text, got 5 (a number)"]),
    ("tests.yaml", "    key: created_by", "    key: 2025-02-30", ["cannot read '2025-02-30' as timestamp"]),
    ("tests.yaml", "    key: created_by", "    key: \"\"", ["key of dimension created_by must not be empty"]),
    ("tests.yaml", "        bridge: true", "        bridge: yes", ["bridge of join to test_features of semantic model tests"]),
    ("tests.yaml", "semantic_models:", "semantic_model:", ["unknown field 'semantic_model' in the file; did you mean"]),
    ("tests.yaml", "    expr: test_id\n    filter: created_by", "    expr: test_id\n    filter:\n    x: created_by",
     ["filter of metric tests_created must be text, got an empty value; give a value or remove it"]),
    ("ratios.yaml", "    description: Bugs in scope per test in scope.\n",
     "    description: Bugs in scope per test in scope.\n    filter: severity = 'critical'\n",
     ["unknown field 'filter' in metric bugs_per_test"]),
])
def test_schema_mistakes_name_file_line_and_fix(tmp_path, file, old, new, fragments):
    root = copy_models(tmp_path)
    line = edit(root / file, old, new)
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert f"{file}:{line}" in message or f"{file}:{line + 1}" in message  # an edit may add a line before
    assert info.value.file.endswith(file)


@pytest.mark.parametrize("content, fragment, line", [
    (lambda b: b[:100] + b"\xff\xfe" + b[100:], "is not UTF-8 text (byte 0xff); save it as UTF-8", 3),
    (lambda b: b.replace(b"bug_id", b"bug\x00id", 1), "contains a NUL character", 8),
    (lambda b: b.replace(b"bug_id", b"bug\x07id", 1), "character U+0007 is not allowed in YAML", 8),
    (lambda b: b"", "the file declares nothing", 1),
    (lambda b: b"# only a comment\n", "the file declares nothing", 1),
    (lambda b: b"- semantic_models\n- metrics\n", "the top level of a model file must be a mapping", 1),
    (lambda b: b"metrics: [\n", "malformed YAML", 2),
])
def test_unreadable_files_are_model_errors(tmp_path, content, fragment, line):
    root = copy_models(tmp_path)
    path = root / "bugs.yaml"
    path.write_bytes(content(path.read_bytes()))
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert fragment in str(info.value) and f"bugs.yaml:{line}" in str(info.value)
    assert (info.value.file, info.value.line) == (str(path), line) or info.value.file.endswith("bugs.yaml")


def test_schema_problems_of_several_files_come_together(tmp_path):
    root = copy_models(tmp_path)
    first = edit(root / "bugs.yaml", "    allowed_values: [true, false]", "    allowed_values: true")
    second = edit(root / "tests.yaml", "        bridge: true", "        bridge: 'true'")
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert len(info.value.problems) == 2
    assert f"bugs.yaml:{first}" in info.value.problems[0] and f"tests.yaml:{second}" in info.value.problems[1]


def test_merge_keys_may_be_overridden_but_not_repeated(tmp_path):
    root = copy_models(tmp_path)
    (root / "extra.yaml").write_text(
        "metrics:\n  - &base {name: a, type: count, model: bugs, expr: bug_id}\n"
        "  - <<: *base\n    name: b\n")
    assert load_model(root).metrics["b"].model == "bugs"
    (root / "extra.yaml").write_text("metrics:\n  - <<: {name: a, type: count, model: bugs, expr: bug_id}\n"
                                     "    name: b\n    name: c\n")
    with pytest.raises(ModelValidationError, match="duplicate key 'name' .first at line 3.*extra.yaml:4"):
        load_model(root)


@pytest.mark.parametrize("path", [5, "models\x00dir", "x" * 5000])
def test_a_bad_model_path_is_a_model_error(path):
    with pytest.raises(ModelValidationError):
        load_model(path)


def test_table_and_column_typos_are_found_against_the_warehouse_at_their_line(tmp_path):
    root = copy_models(tmp_path)
    table_line = edit(root / "tests.yaml", "    table: tests\n", "    table: testz\n")
    column_line = edit(root / "test_features.yaml", "      product_id: integer\n", "      produt_id: integer\n")
    model = load_model(root)  # both are only wrong against a warehouse
    con = build_warehouse(duckdb.connect())
    with pytest.raises(ModelValidationError) as info:
        load_model(root, warehouse=con)
    assert sorted(info.value.problems) == [
        f"table 'testz' of semantic model tests is not in the warehouse; did you mean 'tests'? at "
        f"{root / 'tests.yaml'}:{table_line}",
        f"unknown column 'produt_id' in semantic model features: table features has no such column; did you mean "
        f"'product_id'? at {root / 'test_features.yaml'}:{column_line}",
    ]
    with pytest.raises(ModelValidationError):
        validate_against_warehouse(model, con)


def test_a_misspelt_metric_type_key_is_named_at_its_line(tmp_path):
    root = copy_models(tmp_path)
    line = edit(root / "ratios.yaml", "    type: ratio\n    numerator: bug_count\n",
                "    tpye: ratio\n    numerator: bug_count\n")
    with pytest.raises(ModelValidationError) as info:
        load_model(root)
    assert info.value.problems == [f"metric bugs_per_test lacks the required field 'type' (one of count, "
                                   f"count_distinct, sum, avg, min, max, ratio, derived); is 'tpye' a misspelt "
                                   f"'type'? at {root / 'ratios.yaml'}:{line}"]
