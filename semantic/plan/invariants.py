"""What must hold of an answer, whatever the data: which metrics are shares (within [0, 1] or
NULL) and which metrics' groups add up to the ungrouped total over the same scope.

A **share** is a ratio of one counting metric over itself, each side with its own filter
(accepted bugs / bugs): its numerator counts a subset of what its denominator counts, so a
value outside [0, 1] means a filter counts rows outside its denominator. ``bugs_per_test``
divides two different metrics and has no bound.

A metric is **additive** over a query's dimensions when every row it counts lands in exactly
one group (the NULL group is a group): a count or sum of its model's rows, or a distinct count
of its model's primary key, none of whose dimension keys is reached through a fan-out join
(one_to_many, many_to_many), which would put one row in several groups. So ``test_count`` by
``feature`` is not additive (a test counts once for each of its features), ``bug_count`` by
``feature`` is (a bug has its own feature) but by ``platform`` is not (a bug counts once for
each platform of its test), ``active_testers`` never is (one tester reports in many months),
and ``test_count`` by ``customer`` is (one creator per test).

>>> from semantic.model.loader import load_model
>>> from semantic.plan.planner import plan_query
>>> m = load_model()
>>> share_metrics(m, ["bugs_per_test", "overall_acceptance_rate", "auto_acceptance_rate"])
('overall_acceptance_rate', 'auto_acceptance_rate')
>>> additive_metrics(m, plan_query(m, ["test_count", "bug_count", "active_testers"], ["feature"]))
('bug_count',)
>>> additive_metrics(m, plan_query(m, ["bug_count"], ["platform"]))
()
>>> additive_metrics(m, plan_query(m, ["tests_created", "tests_submitted"], ["customer", "month"]))
('tests_created', 'tests_submitted')
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from semantic.model.spec import Metric, Model
from semantic.plan.query_plan import QueryPlan

COUNTS = ("count", "count_distinct")


def is_share(model: Model, metric: Metric) -> bool:
    """A ratio of one counting metric over itself (filters on either side)."""
    if metric.type != "ratio" or metric.numerator.metric != metric.denominator.metric:
        return False
    return model.metrics[metric.numerator.metric].type in COUNTS


def share_metrics(model: Model, names: Iterable[str]) -> tuple[str, ...]:
    """The shares among ``names``, in order."""
    return tuple(n for n in names if is_share(model, model.metrics[n]))


def _counts_rows(model: Model, metric: Metric) -> bool:
    """A count or sum of its model's rows, or a distinct count of its model's primary key."""
    if metric.type in ("count", "sum"):
        return True
    key = model.models[metric.model].primary_key
    return metric.type == "count_distinct" and isinstance(metric.expr, exp.Column) \
        and not metric.expr.table and key == (metric.expr.name,)


def additive_metrics(model: Model, plan: QueryPlan) -> tuple[str, ...]:
    """The plan's metrics whose groups add up to their total over the same scope, in order
    (every metric of a plan without dimensions: its one row is the total)."""
    additive = []
    for name in plan.metrics:
        metric = model.metrics[name]
        if not metric.is_simple or not _counts_rows(model, metric):
            continue
        pieces = [sp for sp in plan.sources if any(ms.metric == name for ms in sp.measures)]
        if not any(step.fans_out for sp in pieces for view in sp.group_keys for step in view.path):
            additive.append(name)
    return tuple(additive)
