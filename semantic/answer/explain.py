"""Plain-words explanation of a plan: scope, date range, dimensions, metrics, NULL handling.

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> "NULL when" in explain_plan(m, plan_query(m, ["bugs_per_test"]))
True
"""

from __future__ import annotations

from semantic.model.spec import Metric, MetricInput, Model
from semantic.plan.query_plan import QueryPlan
from semantic.plan.resolve import role_readings
from semantic.plan.views import reaches

_AGG_WORDS = {"count": "the number of", "count_distinct": "the number of distinct", "sum": "the sum of",
              "avg": "the average of", "min": "the smallest", "max": "the largest"}


def describe_metric(model: Model, metric: Metric) -> str:
    """One sentence: how a metric is computed."""
    if metric.is_simple:
        where = f" where {metric.filter_sql}" if metric.filter_sql else ""
        return f"{_AGG_WORDS[metric.type]} {metric.expr_sql} over {model.models[metric.model].entities} in scope{where}"
    if metric.type == "ratio":
        return (f"{describe_input(model, metric.numerator)} divided by {describe_input(model, metric.denominator)}, "
                f"each computed at its own grain for the group; NULL when the denominator is 0")
    return f"{metric.expr_sql} over " + ", ".join(describe_input(model, i) for i in metric.inputs)


def describe_input(model: Model, inp: MetricInput) -> str:
    return f"{inp.metric}" + (f" restricted to {inp.filter.sql('duckdb')}" if inp.filter is not None else "")


def scope_summary(model: Model) -> str:
    """The default scope and what filters restrict, in the model's words (for capabilities).

    >>> from semantic.model.loader import load_model
    >>> scope_summary(load_model())
    'tests in scope by default: executed tests (test_status in running, locked, customer_finalized, archived); a test_status filter replaces the default; bug-only filters do not restrict tests'
    """
    scope = model.scope_model
    if scope is None:
        return "every row of every table is in scope"
    default = scope.default_scope
    apart = dict.fromkeys(model.models[d.model].entity for d in model.dimensions.values()
                          if not reaches(model, d, scope.name))
    return (f"{scope.entities} in scope by default: {default.description} ({default.dimension} in "
            f"{', '.join(map(str, default.values))}); a {default.dimension} filter replaces the default"
            + "".join(f"; {entity}-only filters do not restrict {scope.entities}" for entity in apart))


def _scope_lines(model: Model, plan: QueryPlan) -> list[str]:
    """Which rows of the scope model are counted, and over which dates, in the model's words."""
    if not plan.scope_model:
        return []
    scope = model.models[plan.scope_model]
    default, rows = scope.default_scope, scope.entities
    lines = []
    if plan.scope_values is not None:
        column = model.dimensions[default.dimension].key_column
        lines.append(f"{rows.capitalize()} in scope: {rows} whose {column} is one of {', '.join(map(str, default.values))} "
                     f"({default.description}; a {default.dimension} filter would replace this default).")
    else:
        f = next(f for f in plan.filters if f.dimension == default.dimension)
        lines.append(f"{rows.capitalize()} in scope: {rows} with {f.describe()} "
                     f"(this filter replaces the default, {default.description}).")
    if plan.date_dimension is not None:
        when = model.dimensions[plan.date_dimension].key.sql(dialect="duckdb")
        if plan.date_start or plan.date_end:
            s = plan.date_start.isoformat(sep=" ") if plan.date_start else "the beginning"
            e = plan.date_end.isoformat(sep=" ") if plan.date_end else "now"
            lines.append(f"Date range: {rows} whose {when} (UTC) is in [{s}, {e}); {rows} without {when} are out.")
        else:
            lines.append(f"Date range: all time ({rows} without {when} included).")
    return lines


def explain_plan(model: Model, plan: QueryPlan) -> str:
    """The plan in plain words: scope, dates, filters, rows, each metric, NULLs, order and limit."""
    lines = _scope_lines(model, plan)
    default = model.models[plan.scope_model].default_scope if plan.scope_model else None
    other = [f for f in plan.filters if default is None or f.dimension != default.dimension]
    if other:
        notes = dict.fromkeys(model.dimensions[f.dimension].filter_description for f in other)
        lines.append("Filters: " + "; ".join(f.describe() for f in other) + "."
                     + "".join(f" {note[0].upper()}{note[1:]}." for note in notes if note))
    if plan.dimensions:
        lines.append("Grouped by: " + ", ".join(
            f"{d} ({model.dimensions[d].description.rstrip('.')})" for d in plan.dimensions) + ".")
        metrics = [model.metrics[m] for m in plan.metrics]
        for dim in (model.dimensions[d] for d in plan.dimensions if model.dimensions[d].metric_roles):
            readings = role_readings(model, dim, metrics)
            lines.append(f"{dim.name} is read per metric: "
                         + "; ".join(f"as {key} for {', '.join(names)}" for key, names in readings.items()) + ".")
        among = (f"among {model.models[plan.scope_model].entities} in scope and among the metrics' own rows"
                 if plan.rows_from_scope else "among the metrics' own rows")
        lines.append(f"Rows: every combination present {among}; NULL is a group of its own"
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


def no_match_note(model: Model, plan: QueryPlan) -> str | None:
    """For an answer where nothing matched: the filters whose values nobody checked (their
    dimension declares no values), since a value absent from the data gives an empty answer.

    >>> from semantic.model.loader import load_model
    >>> from semantic.plan.planner import plan_query
    >>> m = load_model()
    >>> print(no_match_note(m, plan_query(m, ["bug_count"], filters={"tester": "zed"})))
    No row matched tester = 'zed': no bugs in scope have that value (tester declares no list of values, so a value absent from the data is not an error).
    """
    unchecked = [f for f in plan.filters if f.values and not model.dimensions[f.dimension].is_time
                 and (f.target == "id" or model.dimensions[f.dimension].allowed_values is None)]
    if not unchecked:
        return None
    others = " together with the other filters" if len(plan.filters) > len(unchecked) else ""
    names = list(dict.fromkeys(f.dimension for f in unchecked))
    if len(unchecked) == 1:
        f = unchecked[0]
        what = f"no {model.models[model.dimensions[f.dimension].model].entities} in scope have that value{others}"
    else:
        what = f"no row in scope has these values together{others}"
    declares = f"{names[0]} declares" if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]} declare"
    return (f"No row matched {' and '.join(f.describe() for f in unchecked)}: {what} ({declares} no list of "
            f"values, so a value absent from the data is not an error).")
