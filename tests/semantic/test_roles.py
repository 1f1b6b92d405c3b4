"""Roles of a customer user (issue 8, item 2): ``created_by`` and ``submitted_by`` name one role
each; ``customer`` reads the submitter for tests_submitted and the creator for every other
metric (``metric_roles`` in the YAML), in groups and in filters, and says so."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from model_files import copy_models, edit
from semantic import RoleConflictError, capabilities, explain, query_metrics
from semantic.errors import InvalidQueryError, ModelValidationError
from semantic.model.loader import load_model
from semantic.plan.planner import plan_query
from warehouse_fixtures import build_warehouse, golden_rows

MIXED_RATIO = """
  - name: submitted_share
    description: Tests submitted per test created.
    type: ratio
    numerator: tests_submitted
    denominator: test_count
"""


@pytest.fixture
def golden():
    with duckdb.connect() as con:
        build_warehouse(con, **golden_rows())
        yield con


def test_metrics_reading_different_roles_are_aggregated_apart_and_stitched():
    model = load_model()
    plan = plan_query(model, ["test_count", "tests_submitted", "tests_created"], ["customer"])
    assert [(sp.name, [m.name for m in sp.measures]) for sp in plan.sources] == [
        ("tests", ["test_count", "tests_created"]), ("tests__customer_as_submitted_by", ["tests_submitted"])]
    assert plan.row_sources == ("tests", "tests__customer_as_submitted_by")
    tree = sqlglot.parse_one(explain(["test_count", "tests_submitted"], ["customer"]).sql, read="duckdb")
    keys = {cte.alias: cte.this.find(exp.Alias).this.sql() for cte in tree.find_all(exp.CTE)}
    assert keys == {"agg_tests": "tests.created_by", "agg_tests__customer_as_submitted_by": "tests.submitted_by"}


def test_without_customer_one_aggregation_serves_both_metrics():
    plan = plan_query(load_model(), ["test_count", "tests_submitted"], ["product"])
    assert [sp.name for sp in plan.sources] == ["tests"]


def test_tests_submitted_alone_by_customer_still_lists_the_creators_in_scope():
    plan = plan_query(load_model(), ["tests_submitted"], ["customer"])
    assert plan.scope_keys is not None and plan.scope_keys.roles == ()
    assert plan.row_sources == ("tests__customer_as_submitted_by",)


def test_the_explanation_says_whom_customer_means_for_each_metric():
    grouped = explain(["tests_submitted", "test_count", "bug_count"], ["customer"])
    assert ("customer is read per metric: as submitted_by for tests_submitted; as created_by for test_count, "
            "bug_count.") in grouped.explanation
    assert "the submitter of the test for tests_submitted" in grouped.explanation  # the YAML description
    alone = explain(["test_count"], ["customer"])
    assert "customer is read per metric: as created_by for test_count." in alone.explanation
    filtered = explain(["tests_submitted", "test_count"], (), {"customer": "jane"})
    warning = ("the filter customer = 'jane' is read per metric: as submitted_by = 'jane' for tests_submitted; "
               "as created_by = 'jane' for test_count")
    assert warning in filtered.warnings and warning in filtered.explanation
    assert "the tests the customer submitted" in filtered.explanation  # the YAML filter_description
    assert not explain(["test_count"], (), {"customer": "jane"}).warnings
    assert "read per metric" not in explain(["tests_submitted"], ["created_by"]).explanation


def test_capabilities_list_the_roles():
    dims = capabilities()["dimensions"]
    assert dims["customer"]["metric_roles"] == {"tests_submitted": "submitted_by"}
    assert dims["created_by"]["metric_roles"] == {} and dims["submitted_by"]["has_id"]


def test_the_explanation_takes_its_words_from_the_yaml(tmp_path):
    root = copy_models(tmp_path)
    edit(root / "tests.yaml", "The customer user credited with the metric", "Whoever the metric credits")
    result = explain(["tests_submitted"], ["customer"], model=load_model(root))
    assert "customer (Whoever the metric credits:" in result.explanation


def test_a_ratio_mixing_two_roles_is_a_typed_error(tmp_path, golden):
    root = copy_models(tmp_path)
    (root / "mixed.yaml").write_text("metrics:" + MIXED_RATIO)
    model = load_model(root)
    for dims, filters in ((["customer"], None), ((), {"customer": "alice"}), (["month"], {"customer_id": "customer:alice"})):
        with pytest.raises(RoleConflictError) as caught:
            query_metrics(["submitted_share"], dims, filters, warehouse=golden, model=model)
        assert isinstance(caught.value, InvalidQueryError)
        message = str(caught.value)
        assert "tests_submitted reads it as submitted_by; test_count reads it as created_by" in message
        assert "group or filter by created_by or submitted_by instead" in message
    # one role each: an answer
    for dims in (["created_by"], ["submitted_by"], ["product"]):
        df = query_metrics(["submitted_share"], dims, warehouse=golden, model=model).df
        assert len(df) >= 1
    by_submitter = query_metrics(["submitted_share"], ["submitted_by"], warehouse=golden, model=model).df
    assert by_submitter.set_index("submitted_by")["submitted_share"].to_dict() == {"alice": 1.0, "bob": 1.0}


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("tests_submitted: submitted_by", "tests_submited: submitted_by",
     "unknown metric 'tests_submited' in metric_roles of dimension customer; did you mean 'tests_submitted'?"),
    ("tests_submitted: submitted_by", "tests_submitted: submited_by",
     "unknown dimension 'submited_by' in metric_roles of dimension customer; did you mean 'submitted_by'?"),
    ("tests_submitted: submitted_by", "bugs_per_test: submitted_by",
     "metric_roles of dimension customer may name simple metrics only; bugs_per_test is a ratio"),
    ("tests_submitted: submitted_by", "tests_submitted: product",
     "dimension product in metric_roles of dimension customer must be another role of the same entity"),
    ("tests_submitted: submitted_by", "tests_submitted: customer",
     "dimension customer in metric_roles of dimension customer must be another role"),
    ("    metric_roles:\n      tests_submitted: submitted_by", "    metric_roles: [submitted_by]",
     "metric_roles of dimension customer must be a mapping, got a list"),
])
def test_metric_roles_mistakes_name_the_file_and_line(tmp_path, old, new, problem):
    root = copy_models(tmp_path)
    edit(root / "tests.yaml", old, new)
    with pytest.raises(ModelValidationError) as caught:
        load_model(root)
    assert problem in str(caught.value) and "tests.yaml:" in str(caught.value)


def test_a_role_with_another_id_is_refused(tmp_path):
    root = copy_models(tmp_path)
    text = (root / "tests.yaml").read_text()
    start = text.index("  - name: submitted_by")
    edit(root / "tests.yaml", text[start:text.index("id:", start)] + "id: \"'customer:' || key\"",
         text[start:text.index("id:", start)] + "id: \"'submitter:' || key\"")
    with pytest.raises(ModelValidationError, match="same id, label and value type as customer"):
        load_model(root)
