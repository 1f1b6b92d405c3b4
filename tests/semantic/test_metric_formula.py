"""The formula shown for a metric is the SQL that computes it, not a second rendering of the YAML."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from semantic import capabilities, explain
from semantic.model.loader import load_model

METRICS = sorted(capabilities()["metrics"])


def _shape(tree: exp.Expression, leaf: type[exp.Expression]) -> exp.Expression:
    """The tree with every ``leaf`` node (and what is under it) replaced by one placeholder."""
    return tree.copy().transform(lambda n: exp.var("x") if isinstance(n, leaf) else n)


def _answer_expression(metric: str) -> exp.Expression:
    """The metric's expression in the answer's final SELECT (over the aggregation CTEs' columns)."""
    tree = sqlglot.parse_one(explain([metric]).sql, read="duckdb")
    return next(p.this for p in tree.expressions if p.alias == metric)


@pytest.mark.parametrize("metric", METRICS)
def test_formula_has_the_shape_of_the_sql_that_runs(metric):
    formula = sqlglot.parse_one(capabilities()["metrics"][metric]["sql"], read="duckdb")
    assert _shape(formula, exp.AggFunc) == _shape(_answer_expression(metric), exp.Column)
    assert not formula.find(exp.Nullif)


@pytest.mark.parametrize("metric", METRICS)
def test_formula_reads_the_metric_definition(metric):
    model = load_model()
    formula = sqlglot.parse_one(capabilities()["metrics"][metric]["sql"], read="duckdb")
    definition = model.metrics[metric]
    simple = [definition] if definition.is_simple else [model.metrics[i.metric] for i in
                                                         (definition.numerator, definition.denominator)]
    for base in simple:
        assert any(node == base.expr for node in formula.walk()), base.expr.sql()


def test_ratio_formula_guards_the_zero_denominator():
    formula = sqlglot.parse_one(capabilities()["metrics"]["auto_acceptance_rate"]["sql"], read="duckdb")
    case = formula.find(exp.Case)
    assert case is not None and isinstance(case.args["ifs"][0].args["true"], exp.Null)
    assert "status = 'auto_accepted'" in formula.sql() and "status IN ('accepted', 'auto_accepted')" in formula.sql()
