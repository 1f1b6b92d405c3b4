"""Metric values as sqlglot trees: aggregations, ratios NULL on a zero denominator, derived
expressions of other metrics, and the formula text shown to people, built by the same code.

The answer's SELECT computes a metric from the columns of the aggregation CTEs; its formula is
that same expression with each column replaced by the aggregation that fills it, so the
formula shown (``testio-semantic list metrics``, ``capabilities()``) is the SQL that runs.

>>> from semantic.model.loader import load_model
>>> m = load_model()
>>> metric_formula(m, m.metrics["bug_count"])
'COALESCE(COUNT(DISTINCT bug_id), 0)'
>>> metric_dtype(m, m.metrics["bug_severity_score"])
'int64'
>>> print(metric_formula(m, m.metrics["bugs_per_test"]))
CASE WHEN COALESCE(COUNT(DISTINCT test_id), 0) IS NULL OR COALESCE(COUNT(DISTINCT test_id), 0) = 0 THEN NULL ELSE CAST(COALESCE(COUNT(DISTINCT bug_id), 0) AS DOUBLE) / CAST(COALESCE(COUNT(DISTINCT test_id), 0) AS DOUBLE) END
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.model.spec import Metric, MetricInput, Model

# Aggregations that are 0, not NULL, for a group without rows.
COUNTING = ("count", "count_distinct", "sum")
_AGGREGATES = {"count": exp.Count, "sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}
# The SQL type of each value type of the YAML columns (for typing a metric's expression).
SQL_TYPES = {"integer": "BIGINT", "float": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN",
              "timestamp": "TIMESTAMP"}


def aggregate(metric_type: str, value: exp.Expression) -> exp.Expression:
    """The aggregation of a simple metric over a value: ``COUNT(DISTINCT value)``, ``SUM(value)``, ..."""
    if metric_type == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    return _AGGREGATES[metric_type](this=value)


def only_where(value: exp.Expression, conditions: list[exp.Expression]) -> exp.Expression:
    """``CASE WHEN conditions THEN value END``: the value on rows a metric's filter keeps, else NULL."""
    if not conditions:
        return value
    return exp.Case(ifs=[exp.If(this=exp.and_(*conditions, copy=False), true=value)])


def ratio(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    """``numerator / denominator`` as a DOUBLE, NULL when the denominator is NULL or 0.

    Both sides are cast to DOUBLE before dividing: ``x * 1.0 / y`` is fixed-point on Snowflake
    (7 decimals) and ``DECIMAL(38,16)`` on Spark, while a division of doubles is the correctly
    rounded quotient on every engine (DuckDB's answers are unchanged by the cast)."""
    return exp.Case(
        ifs=[exp.If(this=exp.or_(exp.Is(this=denominator.copy(), expression=exp.null()),
                                 exp.EQ(this=denominator.copy(), expression=exp.Literal.number(0)), copy=False),
                    true=exp.null())],
        default=exp.Div(this=exp.cast(numerator, "DOUBLE", copy=False), expression=exp.cast(denominator, "DOUBLE")))


def metric_value(model: Model, metric: Metric, column: Callable[[MetricInput], exp.Expression]) -> exp.Expression:
    """A metric from the values of its simple inputs (``column`` gives each one), counts 0 when missing."""
    def input_value(inp: MetricInput) -> exp.Expression:
        base = model.metrics[inp.metric]
        if not base.is_simple:
            return exp.paren(metric_value(model, base, column))
        value = column(inp)
        return exp.Coalesce(this=value, expressions=[exp.Literal.number(0)]) if base.type in COUNTING else value

    if metric.is_simple:
        return input_value(MetricInput(metric.name))
    if metric.type == "ratio":
        return ratio(input_value(metric.numerator), input_value(metric.denominator))
    values = {i.name: input_value(i) for i in metric.inputs}
    return metric.expr.copy().transform(
        lambda n: values[n.name].copy() if isinstance(n, exp.Column) and n.name in values else n)


def input_aggregate(model: Model, inp: MetricInput) -> exp.Expression:
    """The aggregation a simple input stands for, its filters inside (over its model's columns)."""
    base = model.metrics[inp.metric]
    conditions = [c.copy() for c in (base.filter, inp.filter) if c is not None]
    return aggregate(base.type, only_where(base.expr.copy(), conditions))


def metric_formula(model: Model, metric: Metric) -> str:
    """The formula of a metric as SQL, from its expression trees (one text for CLI and capabilities)."""
    return metric_value(model, metric, lambda inp: input_aggregate(model, inp)).sql(dialect="duckdb")


def metric_dtype(model: Model, metric: Metric) -> str:
    """The pandas dtype of a metric's column: counts are ``int64``; a sum is ``int64`` when its
    expression is integer-typed (typed by sqlglot from the model's column types), else
    ``float64``, like every other metric (a fractional sum is never truncated)."""
    if metric.type in ("count", "count_distinct"):
        return "int64"
    if metric.type != "sum":
        return "float64"
    typed = metric.expr.copy().transform(lambda n: exp.cast(exp.null(), SQL_TYPES[
        model.models[n.table or metric.model].column_type(n.name) or "float"]) if isinstance(n, exp.Column) else n)
    integer = annotate_types(typed, dialect="duckdb").type.is_type(*exp.DataType.INTEGER_TYPES)
    return "int64" if integer else "float64"
