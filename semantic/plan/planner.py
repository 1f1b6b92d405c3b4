"""Planning: a query checked against the model and guardrails, and every decision about it
taken, into an immutable :class:`~semantic.plan.query_plan.QueryPlan`.

Rows of an answer (semantic/README.md, "Which rows an answer has"): when every requested
dimension can be reached from the scope model, its combinations among the rows in scope join
the spine (``scope_keys``), together with those of any source whose groups can lie outside
them; otherwise every source's own combinations do.

>>> from semantic.model.loader import load_model
>>> p = plan_query(load_model(), ["bugs_per_test"], ["feature"])
>>> [s.model for s in p.sources], p.scope_keys is None, p.row_sources
(['bugs', 'tests'], True, ('bugs', 'tests'))
>>> p = plan_query(load_model(), ["bug_count"], ["feature"])
>>> p.scope_keys.model, p.row_sources
('tests', ('bugs',))
"""

from __future__ import annotations

from datetime import datetime

from semantic.errors import (
    GuardrailError, InvalidFilterError, InvalidQueryError, SemanticError, UnknownDimensionError, UnknownMetricError,
    UnknownNamesError, did_you_mean,
)
from semantic.model.spec import Dimension, Metric, Model
from semantic.plan.arguments import query_request
from semantic.plan.query_plan import Measure, Members, QueryPlan, SourcePlan
from semantic.plan.resolve import (
    filter_target, input_roles, metric_inputs, resolve_dimension, resolve_filter, resolve_metric, role_filter_warning,
    roles_read, unapplied_filter_warning,
)
from semantic.plan.sources import plan_source
from semantic.plan.timegrain import periods
from semantic.plan.views import reaches, reads_own_column


MAX_TIME_MEMBERS = 10_000  # periods fill_missing lists at most (27 years of days)


def _date_dimension(model: Model, scope_model: str | None) -> str | None:
    """The time dimension a date range bounds: the scope model's (any grain: they share the key)."""
    if not scope_model:
        return None
    return next((d.name for d in model.dimensions.values() if d.is_time and d.model == scope_model), None)


def _members(model: Model, dim: Dimension, scope_model, scope_values, date_start, date_end) -> Members:
    """Every member of a dimension, for ``fill_missing``."""
    values = None
    if scope_model and scope_values is not None and model.models[scope_model].default_scope.dimension == dim.name:
        values = tuple(scope_values)
    elif dim.is_time and date_start and date_end:
        values = tuple(periods(dim.granularity, date_start, date_end, cap=MAX_TIME_MEMBERS + 1))
        if len(values) > MAX_TIME_MEMBERS:
            raise GuardrailError(f"fill_missing would list more than {MAX_TIME_MEMBERS:,} {dim.granularity}s "
                                 f"between {date_start.date().isoformat()} and {date_end.date().isoformat()}; "
                                 f"narrow the date range or group by a coarser time dimension")
    elif dim.allowed_values is not None:
        values = tuple(dim.allowed_values)
    return Members(dim.name, values, dim.members_model if values is None else None)


def _row_sources(model: Model, sources: list[SourcePlan], dims: list[Dimension], scope_model: str | None,
                 from_scope: bool) -> tuple[str, ...]:
    """The pieces whose own dimension combinations join the spine."""
    if not from_scope:
        return tuple(sp.name for sp in sources)
    rows = []
    for sp in sources:
        # a source filtered on its own column (bugs.feature_id) may have rows of tests outside
        # the scope's groups; so may a source grouped by a column of its own (a bug's own
        # feature) and a piece reading a dimension through a role (the submitter, not the
        # creator). The bridge of a dimension (test_features) is not such a source: its rows
        # with a member are among the scope's, and one without a member (a NULL feature_id)
        # puts its test in the NULL group only when the test has no member at all, which the
        # scope's own rows already say
        beyond_scope = any(reads_own_column(model.dimensions[f.dimension], sp.model) for f in sp.filters)
        own_key = any(reads_own_column(d, sp.model) for d in dims)
        if sp.model == scope_model or beyond_scope or own_key or sp.roles:
            rows.append(sp.name)
    return tuple(rows)


def _order(dobjs, mobjs, sort_by: tuple[str, ...], sort_order: str) -> tuple[tuple[str, bool], ...]:
    columns = {d.name for d in dobjs} | {f"{d.name}_id" for d in dobjs if d.has_id} | {m.name for m in mobjs}
    order: list[tuple[str, bool]] = []
    if sort_by:
        for s in sort_by:
            if s not in columns:
                raise InvalidQueryError(f"cannot sort by {s!r}{did_you_mean(s, columns)}; "
                                        f"sort by a requested metric or dimension: {', '.join(sorted(columns))}")
            order.append((s, sort_order == "desc"))
    else:
        time_dims = [d.name for d in dobjs if d.is_time]
        order.append((time_dims[0], False) if time_dims else (mobjs[0].name, True))
    for d in dobjs:
        if all(d.name != c for c, _ in order):
            order.append((d.name, False))
        if d.has_id:
            order.append((f"{d.name}_id", False))
    return tuple(order)


def _resolve_names(model: Model, request) -> tuple[list[Metric], list[Dimension]]:
    """The metrics and dimensions of a request; every unknown name among its metrics, dimensions
    and filters is reported at once (one of them: its own typed error; several: UnknownNamesError)."""
    problems: list[SemanticError] = []

    def resolved(resolve, name):
        try:
            return resolve(model, name)
        except (UnknownMetricError, UnknownDimensionError, InvalidFilterError) as err:
            problems.append(err)
            return None

    mobjs = [resolved(resolve_metric, m) for m in dict.fromkeys(request.metrics)]
    dobjs = [resolved(resolve_dimension, d) for d in dict.fromkeys(request.dimensions)]
    for name, _ in request.filters:
        resolved(filter_target, name)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise UnknownNamesError(problems)
    return mobjs, dobjs


def plan_query(
    model: Model,
    metrics,
    dimensions=(),
    filters=None,
    date_start: datetime | None = None,
    date_end: datetime | None = None,
    sort_by=None,
    sort_order: str = "desc",
    limit: int | None = None,
    fill_missing: bool = False,
    max_dimensions: int = 3,
    default_limit: int = 1000,
    max_limit: int = 1000,
) -> QueryPlan:
    """Check a query against the model and guardrails and return its plan."""
    request = query_request(metrics, dimensions, filters, sort_by, sort_order, limit, fill_missing)
    if not request.metrics:
        raise UnknownMetricError("no metric requested; give at least one of: "
                                 + ", ".join(sorted(n for n, m in model.metrics.items() if not m.hidden)))
    mobjs, dobjs = _resolve_names(model, request)
    if len(dobjs) > max_dimensions:
        raise GuardrailError(f"{len(dobjs)} dimensions requested; at most {max_dimensions} are allowed "
                             f"(guardrail max_dimensions)")
    fspecs = tuple(resolve_filter(model, k, v) for k, v in request.filters)

    # inputs per piece, in a stable order: a piece is a source with one choice of roles for
    # the grouped and filtered dimensions (metrics reading a dimension through different roles
    # group by different keys, so they cannot share one aggregation)
    used = list(dict.fromkeys([d.name for d in dobjs] + [f.dimension for f in fspecs]))
    by_piece: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Measure]] = {}
    owner: dict[str, list[str]] = {}
    for m in mobjs:
        roles_read(model, m, used)  # a ratio mixing two roles of a used dimension is an error
        for inp in metric_inputs(model, m):
            base = model.metrics[inp.metric]
            piece = (base.model, input_roles(model, base.name, used))
            by_piece.setdefault(piece, {})[inp.name] = Measure(inp.name, inp.metric, inp.filter)
            owner.setdefault(base.model, []).append(m.name)
    for d in dobjs:
        for src, names in owner.items():
            if not reaches(model, d, src):
                raise UnknownDimensionError(
                    f"dimension {d.name!r} is {model.models[d.model].entity}-grain and cannot group metric {names[0]!r} "
                    f"(computed on {src}); it can group only metrics computed on "
                    f"{', '.join(sorted(s for s in model.models if reaches(model, d, s) and any(mm.model == s for mm in model.metrics.values())))}")
    scope_model = model.scope_model.name if model.scope_model else None
    scope_values = None
    if scope_model:
        default = model.models[scope_model].default_scope
        scope_values = None if any(f.dimension == default.dimension for f in fspecs) else default.values
    date_dimension = _date_dimension(model, scope_model)
    bounded = date_dimension if date_start or date_end else None

    def source(name: str, measures: tuple[Measure, ...], roles=()) -> SourcePlan:
        applied = tuple(f for f in fspecs if reaches(model, model.dimensions[f.dimension], name))
        return plan_source(model, name, measures, applied, dobjs, scope_model, scope_values, bounded, roles)

    sources = [source(src, tuple(measures.values()), roles) for (src, roles), measures in by_piece.items()]
    warnings: list[str] = [w for f in fspecs for w in (unapplied_filter_warning(model, f, mobjs),
                                                       role_filter_warning(model, f, mobjs)) if w]
    from_scope = bool(dobjs) and scope_model is not None and all(reaches(model, d, scope_model) for d in dobjs)
    # the scope's rows read every dimension by its own key: without a piece doing so, scope keys
    scope_keys = source(scope_model, ()) if from_scope and (scope_model, ()) not in by_piece else None
    members = tuple(_members(model, d, scope_model, scope_values, date_start, date_end) for d in dobjs) \
        if request.fill_missing else ()
    order = _order(dobjs, mobjs, request.sort_by, request.sort_order)
    limit = default_limit if request.limit is None else request.limit
    if limit > max_limit:
        warnings.append(f"limit {limit} is above the configured maximum of {max_limit} rows; "
                        f"the answer is capped at {max_limit} rows")
        limit = max_limit
    return QueryPlan(
        metrics=tuple(m.name for m in mobjs), dimensions=tuple(d.name for d in dobjs),
        sources=tuple(sources), filters=fspecs, scope_model=scope_model, scope_values=scope_values,
        date_start=date_start, date_end=date_end, date_dimension=date_dimension, rows_from_scope=from_scope,
        scope_keys=scope_keys, row_sources=_row_sources(model, sources, dobjs, scope_model, from_scope),
        fill_missing=request.fill_missing, members=members, order_by=order, limit=limit, warnings=tuple(warnings),
    )

