"""Plain-words explanation of a plan: scope, date range, dimensions, metrics, NULL handling.

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> "NULL when" in explain_plan(m, plan_query(m, ["bugs_per_test"]))
True
"""

from __future__ import annotations

from semantic.plan.query_plan import QueryPlan
from semantic.model.spec import Metric, MetricInput, Model

_AGG_WORDS = {"count": "the number of", "count_distinct": "the number of distinct", "sum": "the sum of",
              "avg": "the average of", "min": "the smallest", "max": "the largest"}


def describe_metric(model: Model, metric: Metric) -> str:
    """One sentence: how a metric is computed."""
    if metric.is_simple:
        where = f" where {metric.filter_sql}" if metric.filter_sql else ""
        return f"{_AGG_WORDS[metric.type]} {metric.expr_sql} over {metric.model} in scope{where}"
    if metric.type == "ratio":
        return (f"{describe_input(model, metric.numerator)} divided by {describe_input(model, metric.denominator)}, "
                f"each computed at its own grain for the group; NULL when the denominator is 0")
    return f"{metric.expr_sql} over " + ", ".join(describe_input(model, i) for i in metric.inputs)


def describe_input(model: Model, inp: MetricInput) -> str:
    return f"{inp.metric}" + (f" restricted to {inp.filter.sql('duckdb')}" if inp.filter is not None else "")


def explain_plan(model: Model, plan: QueryPlan) -> str:
    lines = []
    scope = plan.scope_model
    if scope:
        sdim, values = model.models[scope].default_scope
        if plan.scope_values is not None:
            lines.append(f"Tests in scope: tests whose status is one of {', '.join(values)} (executed tests; "
                         f"a {sdim} filter would replace this default).")
        else:
            f = next(f for f in plan.filters if f.dimension == sdim)
            lines.append(f"Tests in scope: tests with {f.describe()} (this filter replaces the executed-status default).")
    if plan.date_start or plan.date_end:
        s = plan.date_start.isoformat(sep=" ") if plan.date_start else "the beginning"
        e = plan.date_end.isoformat(sep=" ") if plan.date_end else "now"
        lines.append(f"Date range: tests whose end_at (UTC) is in [{s}, {e}); tests without end_at are out.")
    else:
        lines.append("Date range: all time (tests without end_at included).")
    other = [f for f in plan.filters if not scope or f.dimension != model.models[scope].default_scope[0]]
    if other:
        lines.append("Filters: " + "; ".join(f.describe() for f in other) +
                     ". A feature/platform filter keeps a test when any of its features/platforms matches; "
                     "a feature filter selects bugs by their own feature (None: unattributed bugs); "
                     "bug filters restrict bugs only.")
    if plan.dimensions:
        lines.append("Grouped by: " + ", ".join(
            f"{d} ({model.dimensions[d].description.rstrip('.')})" for d in plan.dimensions) + ".")
        lines.append("Rows: every combination present among tests in scope and among the metrics' own rows; "
                     "NULL is a group of its own (e.g. unattributed bugs grouped by feature)"
                     + ("; every known member is listed (fill_missing)." if plan.fill_missing else "."))
    else:
        lines.append("No dimensions: one row.")
    for name in plan.metrics:
        lines.append(f"{name}: {describe_metric(model, model.metrics[name])}.")
    lines.append("Counts and sums are 0 (not missing) for a group without rows; ratios are NULL when the "
                 "denominator is 0; every count counts distinct entities, so joins never double count.")
    lines.append(f"At most {plan.limit} rows, sorted by "
                 + ", ".join(f"{c} {'desc' if d else 'asc'}" for c, d in plan.order_by[:1]) + " (NULLs last).")
    lines.extend(plan.warnings)
    return "\n".join(lines)
