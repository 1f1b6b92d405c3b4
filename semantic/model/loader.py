"""Load and validate the YAML semantic model into typed objects (:mod:`semantic.model.spec`).

Every mistake is a :class:`ModelValidationError` naming the file, the line, what is wrong
and, where a name is close to a known one, a did-you-mean. The loaded model is cached per
directory, so queries never re-read YAML or re-parse expressions.

>>> model = load_model()
>>> sorted(model.metrics)[:3]
['active_acceptance_rate', 'active_testers', 'auto_acceptance_rate']
"""

from __future__ import annotations

import functools
from collections import deque
from pathlib import Path
from typing import Any

from sqlglot import exp

from semantic.errors import ModelValidationError, did_you_mean
from semantic.model.source import (
    display_path,
    LineMap,
    Problems,
    check_fields,
    location,
    parse_expression,
    read_model_files,
)
from semantic.model.spec import (
    AGGREGATIONS,
    CARDINALITIES,
    GRANULARITIES,
    METRIC_TYPES,
    VALUE_TYPES,
    DefaultScope,
    Dimension,
    Join,
    Location,
    Metric,
    MetricInput,
    Model,
    SemanticModel,
)

MODELS_DIR = Path(__file__).parent.parent / "models"


def _build_models(ctx: Problems, docs) -> dict[str, SemanticModel]:
    raw: dict[str, tuple[str, LineMap]] = {}
    for file, doc in docs:
        for node in doc.get("semantic_models") or []:
            if not check_fields(ctx, file, node, "semantic_model", "semantic model"):
                continue
            name = node.get("name")
            if not isinstance(name, str):
                ctx.error("semantic model without a name", location(file, node))
                continue
            if name in raw:
                ctx.error(f"duplicate semantic model {name!r} (also at {location(*raw[name])})", location(file, node, "name"))
                continue
            raw[name] = (file, node)
    models = {}
    for name, (file, node) in raw.items():
        columns = node.get("columns") or {}
        if not isinstance(columns, dict) or not columns:
            ctx.error(f"semantic model {name} needs a 'columns' mapping of column: type", location(file, node))
            columns = {}
        for col, typ in columns.items():
            if typ not in VALUE_TYPES:
                ctx.error(f"bad type {typ!r} for column {col!r} in semantic model {name}; valid: {', '.join(VALUE_TYPES)}", location(file, columns, col))
        pk = node.get("primary_key")
        pk = tuple([pk] if isinstance(pk, str) else (pk or ()))
        if not pk:
            ctx.error(f"semantic model {name} needs a primary_key", location(file, node))
        for col in pk:
            if col not in columns:
                ctx.error(f"unknown primary key column {col!r} in semantic model {name}{did_you_mean(col, columns)}", location(file, node, "primary_key"))
        joins = []
        for jn in node.get("joins") or []:
            if not check_fields(ctx, file, jn, "join", f"join of {name}"):
                continue
            where = location(file, jn)
            target = jn.get("to")
            if target not in raw:
                ctx.error(f"unknown join target {target!r} in semantic model {name}{did_you_mean(target, raw)}", where)
                continue
            if jn.get("type") not in CARDINALITIES:
                ctx.error(f"bad cardinality {jn.get('type')!r} for join {name} -> {target}; valid: {', '.join(CARDINALITIES)}", location(file, jn, "type"))
                continue
            on = jn.get("on")
            if not isinstance(on, dict) or not on:
                ctx.error(f"join {name} -> {target} needs 'on: {{source_column: target_column}}'", where)
                continue
            tcols = raw[target][1].get("columns") or {}
            for s, t in on.items():
                if s not in columns:
                    ctx.error(f"unknown column {s!r} in join {name} -> {target}{did_you_mean(s, columns)}", location(file, on, s))
                if t not in tcols:
                    ctx.error(f"unknown column {t!r} of {target} in join {name} -> {target}{did_you_mean(t, tcols)}", location(file, on, s))
            if jn.get("type") == "many_to_one" and tuple(on.values()) != tuple(raw[target][1].get("primary_key") or ()):
                ctx.error(f"join {name} -> {target} is many_to_one but does not join on {target}'s primary key", where)
            joins.append(Join(name, target, jn["type"], tuple(on.items()), bool(jn.get("bridge")), bool(jn.get("required")), where))
        scope = node.get("default_scope")
        default_scope = None
        if scope is not None and check_fields(ctx, file, scope, "default_scope", f"default_scope of {name}"):
            default_scope = DefaultScope(scope.get("dimension"), tuple(scope.get("values") or ()),
                                         scope.get("description") or "the default scope")
        models[name] = SemanticModel(
            name=name, table=node.get("table") or name, description=node.get("description") or "",
            primary_key=pk, columns=tuple(columns.items()), joins=tuple(joins), default_scope=default_scope,
            entity=node.get("entity") or name, entities=node.get("entities") or name, where=location(file, node),
        )
    return models


def find_path(models: dict[str, SemanticModel], source: str, target: str) -> tuple[Join, ...] | None:
    """Shortest join path from one semantic model to another (declared order breaks ties)."""
    if source == target:
        return ()
    seen = {source}
    queue = deque([(source, ())])
    while queue:
        name, path = queue.popleft()
        for join in models[name].joins:
            if join.target in seen:
                continue
            if join.target == target:
                return path + (join,)
            seen.add(join.target)
            queue.append((join.target, path + (join,)))
    return None


def _check_columns(ctx, models, base: str, expression, where, what, allowed_tables=None) -> None:
    for column in expression.find_all(exp.Column):
        table = column.table or base
        if allowed_tables is not None and table not in allowed_tables:
            ctx.error(f"{what} may only reference {', '.join(sorted(allowed_tables))}, not {table!r}", where)
            continue
        if table not in models:
            ctx.error(f"unknown model {table!r} in {what}{did_you_mean(table, models)}", where)
            continue
        if table != base and allowed_tables is None and find_path(models, base, table) is None:
            ctx.error(f"{what} references {table!r}, which {base} cannot reach through its joins", where)
            continue
        if models[table].column_type(column.name) is None:
            ctx.error(f"unknown column {column.name!r} in {what}{did_you_mean(column.name, dict(models[table].columns))}", where)


def _type_of(models, base, expression) -> str:
    if isinstance(expression, exp.Column):
        return models[expression.table or base].column_type(expression.name) or "string"
    return "string"


def _build_dimensions(ctx, docs, models) -> dict[str, Dimension]:
    dims: dict[str, Dimension] = {}
    seen: dict[str, Location] = {}

    def claim(name, where) -> bool:
        if name in seen:
            ctx.error(f"duplicate dimension {name!r} (also at {seen[name]})", where)
            return False
        seen[name] = where
        return True

    for file, doc in docs:
        for node in doc.get("dimensions") or []:
            if not check_fields(ctx, file, node, "dimension", "dimension"):
                continue
            name, where = node.get("name"), location(file, node)
            what = f"dimension {name}"
            if not isinstance(name, str) or not claim(name, where):
                continue
            model = node.get("model")
            if model not in models:
                ctx.error(f"unknown model {model!r} in {what}{did_you_mean(model, models)}", location(file, node, "model"))
                continue
            key = parse_expression(ctx, node.get("key"), location(file, node, "key"), f"key of {what}")
            if key is None:
                continue
            _check_columns(ctx, models, model, key, location(file, node, "key"), what)
            key_column = key.name if isinstance(key, exp.Column) else name
            overrides = []
            for src, text in (node.get("overrides") or {}).items():
                if src not in models:
                    ctx.error(f"unknown model {src!r} in overrides of {what}{did_you_mean(src, models)}", location(file, node["overrides"], src))
                    continue
                ov = parse_expression(ctx, text, location(file, node["overrides"], src), f"override of {what}")
                if ov is not None:
                    _check_columns(ctx, models, src, ov, location(file, node["overrides"], src), what)
                    overrides.append((src, ov))
            id_expr = None
            if node.get("id") is not None:
                id_expr = parse_expression(ctx, node["id"], location(file, node, "id"), f"id of {what}")
                if id_expr is not None:
                    for c in id_expr.find_all(exp.Column):
                        if c.table or c.name != "key":
                            ctx.error(f"the id of {what} may only reference 'key', not {c.sql()!r}", location(file, node, "id"))
            label_expr, lookups, label_type = None, (), None
            label = node.get("label")
            if label is not None:
                if not isinstance(label, dict) or "expr" not in label:
                    ctx.error(f"label of {what} must be {{expr: ..., lookup: [models]}}", location(file, node, "label"))
                else:
                    lookups = tuple(label.get("lookup") or ())
                    label_expr = parse_expression(ctx, label["expr"], location(file, node, "label"), f"label of {what}")
                    for lk in lookups:
                        if lk not in models:
                            ctx.error(f"unknown lookup model {lk!r} in {what}{did_you_mean(lk, models)}", location(file, node, "label"))
                        elif models[lk].column_type(key_column) is None:
                            ctx.error(f"lookup model {lk} of {what} has no column {key_column!r} to look the label up by", location(file, node, "label"))
                    if label_expr is not None and all(lk in models for lk in lookups):
                        _check_columns(ctx, models, lookups[0] if lookups else model, label_expr, location(file, node, "label"), what, allowed_tables=set(lookups))
                        cols = list(label_expr.find_all(exp.Column))
                        label_type = models[cols[0].table].column_type(cols[0].name) if cols and cols[0].table in models else "string"
            members = node.get("members")
            members_model = None
            if members is not None:
                members_model = members.get("model") if isinstance(members, dict) else None
                if members_model not in models:
                    ctx.error(f"unknown members model {members_model!r} in {what}{did_you_mean(members_model, models)}", location(file, node, "members"))
                    members_model = None
            allowed = node.get("allowed_values")
            roles = node.get("metric_roles") or {}
            if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
                ctx.error(f"metric_roles of {what} must map metric names to dimension names", location(file, node, "metric_roles"))
                roles = {}
            dims[name] = Dimension(
                name=name, description=node.get("description") or "", model=model, key=key,
                key_column=key_column, value_type=node.get("value_type") or _type_of(models, model, key),
                overrides=tuple(overrides), id_expr=id_expr, label_expr=label_expr,
                label_type=label_type, lookups=lookups, members_model=members_model,
                allowed_values=tuple(allowed) if allowed is not None else None,
                filter_description=node.get("filter_description") or "", where=where,
                metric_roles=tuple((str(m), r) for m, r in roles.items()),
            )
        for node in doc.get("time_dimensions") or []:
            if not check_fields(ctx, file, node, "time_dimension", "time dimension"):
                continue
            where = location(file, node)
            model = node.get("model")
            if model not in models:
                ctx.error(f"unknown model {model!r} in time dimension {node.get('name')}{did_you_mean(model, models)}", where)
                continue
            expression = parse_expression(ctx, node.get("expr"), location(file, node, "expr"), f"time dimension {node.get('name')}")
            if expression is None:
                continue
            _check_columns(ctx, models, model, expression, location(file, node, "expr"), f"time dimension {node.get('name')}")
            if _type_of(models, model, expression) != "timestamp":
                ctx.error(f"time dimension {node.get('name')} must be a timestamp column", where)
            for grain in node.get("granularities") or []:
                if grain not in GRANULARITIES:
                    ctx.error(f"bad granularity {grain!r}{did_you_mean(grain, GRANULARITIES)}; valid: {', '.join(GRANULARITIES)}", location(file, node, "granularities"))
                    continue
                if not claim(grain, where):
                    continue
                dims[grain] = Dimension(
                    name=grain, description=f"{node.get('description', '')} Truncated to the {grain}.".strip(),
                    model=model, key=expression, key_column=grain, value_type="string",
                    granularity=grain, where=where,
                )
    return dims


def _metric_input(ctx, raw, where, what) -> MetricInput | None:
    if isinstance(raw, str):
        return MetricInput(raw)
    if isinstance(raw, dict) and isinstance(raw.get("metric"), str):
        flt = parse_expression(ctx, raw["filter"], where, f"filter of {what}") if raw.get("filter") is not None else None
        return MetricInput(raw["metric"], flt, raw.get("alias"))
    ctx.error(f"{what} must be a metric name or {{metric: name, filter: ..., alias: ...}}", where)
    return None


def _build_metrics(ctx, docs, models, dims) -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}
    for file, doc in docs:
        for node in doc.get("metrics") or []:
            if not check_fields(ctx, file, node, "metric", "metric"):
                continue
            name, where = node.get("name"), location(file, node)
            if not isinstance(name, str):
                ctx.error("metric without a name", where)
                continue
            what = f"metric {name}"
            if name in metrics:
                ctx.error(f"duplicate metric {name!r} (also at {metrics[name].where})", where)
                continue
            if name in dims:
                ctx.error(f"metric {name!r} has the name of a dimension", where)
                continue
            mtype = node.get("type")
            if mtype not in METRIC_TYPES:
                ctx.error(f"bad metric type {mtype!r} in {what}{did_you_mean(mtype, METRIC_TYPES)}; valid: {', '.join(METRIC_TYPES)}", location(file, node, "type"))
                continue
            kwargs: dict[str, Any] = {}
            if mtype in AGGREGATIONS:
                model = node.get("model")
                if model not in models:
                    ctx.error(f"unknown model {model!r} in {what}{did_you_mean(model, models)}", location(file, node, "model"))
                    continue
                expression = parse_expression(ctx, node.get("expr"), location(file, node, "expr"), what)
                flt = parse_expression(ctx, node["filter"], location(file, node, "filter"), f"filter of {what}") if node.get("filter") is not None else None
                for e, field_name in ((expression, "expr"), (flt, "filter")):
                    if e is not None:
                        _check_columns(ctx, models, model, e, location(file, node, field_name), what)
                kwargs = dict(model=model, expr=expression, filter=flt, expr_sql=str(node.get("expr")), filter_sql=str(node.get("filter") or ""))
            elif mtype == "ratio":
                kwargs = dict(
                    numerator=_metric_input(ctx, node.get("numerator"), location(file, node, "numerator"), f"numerator of {what}"),
                    denominator=_metric_input(ctx, node.get("denominator"), location(file, node, "denominator"), f"denominator of {what}"),
                )
            else:
                inputs = [_metric_input(ctx, i, location(file, node, "inputs"), f"input of {what}") for i in node.get("inputs") or []]
                expression = parse_expression(ctx, node.get("expr"), location(file, node, "expr"), what)
                kwargs = dict(inputs=tuple(i for i in inputs if i), expr=expression, expr_sql=str(node.get("expr")))
            metrics[name] = Metric(name=name, description=node.get("description") or "", type=mtype,
                                   hidden=bool(node.get("hidden")), where=where, **kwargs)
    _check_metric_refs(ctx, metrics, models)
    return metrics


def _check_metric_refs(ctx, metrics, models) -> None:
    for metric in metrics.values():
        refs = [i for i in (metric.numerator, metric.denominator) if i] + list(metric.inputs)
        for ref in refs:
            if ref.metric not in metrics:
                ctx.error(f"unknown metric {ref.metric!r} referenced by metric {metric.name}{did_you_mean(ref.metric, metrics)}", metric.where)
            elif metric.type == "ratio" and not metrics[ref.metric].is_simple:
                ctx.error(f"ratio {metric.name} must divide simple metrics; {ref.metric} is a {metrics[ref.metric].type}", metric.where)
            elif ref.filter is not None and metrics[ref.metric].is_simple:
                _check_columns(ctx, models, metrics[ref.metric].model, ref.filter, metric.where, f"metric {metric.name}")
        if metric.type == "derived" and metric.expr is not None:
            names = {i.name for i in metric.inputs}
            for c in metric.expr.find_all(exp.Column):
                if c.name not in names:
                    ctx.error(f"derived metric {metric.name} uses {c.name!r}, which is not one of its inputs{did_you_mean(c.name, names)}", metric.where)
    # cycles among derived metrics
    state: dict[str, int] = {}

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2 or name not in metrics:
            return
        if state.get(name) == 1:
            cycle = stack[stack.index(name):] + [name]
            ctx.error(f"metric cycle: {' -> '.join(cycle)}", metrics[name].where)
            return
        state[name] = 1
        m = metrics[name]
        for ref in [i for i in (m.numerator, m.denominator) if i] + list(m.inputs):
            visit(ref.metric, stack + [name])
        state[name] = 2

    for name in metrics:
        visit(name, [])


def _check_roles(ctx, dims, metrics) -> None:
    """A dimension's metric_roles name simple metrics and dimensions of the same entity: same
    model, id, label and value type (one person has one id in every role), without roles of
    their own."""
    for dim in dims.values():
        for metric, role in dim.metric_roles:
            what = f"metric_roles of dimension {dim.name}"
            if metric not in metrics:
                ctx.error(f"unknown metric {metric!r} in {what}{did_you_mean(metric, metrics)}", dim.where)
            elif not metrics[metric].is_simple:
                ctx.error(f"{what} may name simple metrics only; {metric} is a {metrics[metric].type} "
                          f"(it reads the roles of its inputs)", dim.where)
            other = dims.get(role)
            if other is None:
                ctx.error(f"unknown dimension {role!r} in {what}{did_you_mean(role, dims)}", dim.where)
                continue
            same = (other.model, _sql(other.id_expr), _sql(other.label_expr), other.lookups, other.value_type) == \
                (dim.model, _sql(dim.id_expr), _sql(dim.label_expr), dim.lookups, dim.value_type)
            if role == dim.name or other.metric_roles or other.is_time or not same:
                ctx.error(f"dimension {role} in {what} must be another role of the same entity: a categorical "
                          f"dimension of model {dim.model} with the same id, label and value type as {dim.name}, "
                          f"and no metric_roles of its own", dim.where)


def _sql(expression) -> str | None:
    return None if expression is None else expression.sql()


def _check_scopes(ctx, models, dims) -> None:
    scoped = [m for m in models.values() if m.default_scope is not None]
    for extra in scoped[1:]:
        ctx.error(f"only one semantic model may have a default_scope: {scoped[0].name} has one, so {extra.name} cannot",
                  extra.where)
    for model in models.values():
        if model.default_scope is None:
            continue
        dim = model.default_scope.dimension
        if dim not in dims:
            ctx.error(f"unknown dimension {dim!r} in default_scope of {model.name}{did_you_mean(dim, dims)}", model.where)
        elif dims[dim].model != model.name:
            ctx.error(f"default_scope of {model.name} must use one of its own dimensions, not {dim}", model.where)


def build_model(paths: list[Path]) -> Model:
    """Load and validate the given YAML files (raises :class:`ModelValidationError`)."""
    ctx = Problems()
    docs = read_model_files(paths, ctx)
    models = _build_models(ctx, docs)
    dims = _build_dimensions(ctx, docs, models)
    metrics = _build_metrics(ctx, docs, models, dims)
    _check_roles(ctx, dims, metrics)
    _check_scopes(ctx, models, dims)
    ctx.raise_if_any()
    return Model(models=models, dimensions=dims, metrics=metrics, files=tuple(display_path(p) for p in paths))


@functools.lru_cache(maxsize=8)
def _load_cached(files: tuple[str, ...], stamps: tuple[int, ...]) -> Model:
    return build_model([Path(f) for f in files])


def load_model(path: str | Path | None = None) -> Model:
    """Load (and cache until a file changes) the semantic model from a directory of YAML files or one file."""
    root = Path(path) if path is not None else MODELS_DIR
    if not root.exists():
        raise ModelValidationError(f"semantic model path {root} does not exist", file=str(root))
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml")) if root.is_dir() else [root]
    if not files:
        raise ModelValidationError(f"no YAML model files in {root}", file=str(root))
    return _load_cached(tuple(map(str, files)), tuple(f.stat().st_mtime_ns for f in files))


def validate_against_warehouse(model: Model, con) -> None:
    """Check every declared table and column exists in the warehouse with a compatible type."""
    ctx = Problems()
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
    ).fetchall()
    actual: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        actual.setdefault(table, {})[column] = data_type.upper()
    families = {"integer": ("INT", "DECIMAL", "HUGEINT"), "string": ("VARCHAR", "TEXT", "STRING"),
                "boolean": ("BOOL",), "timestamp": ("TIMESTAMP", "DATE"), "float": ("DOUBLE", "FLOAT", "REAL", "DECIMAL")}
    for sm in model.models.values():
        if sm.table not in actual:
            ctx.error(f"table {sm.table!r} of semantic model {sm.name} is not in the warehouse{did_you_mean(sm.table, actual)}", sm.where)
            continue
        for column, vtype in sm.columns:
            found = actual[sm.table].get(column)
            if found is None:
                ctx.error(f"unknown column {column!r} in semantic model {sm.name}: table {sm.table} has no such column{did_you_mean(column, actual[sm.table])}", sm.where)
            elif not any(f in found for f in families[vtype]):
                ctx.error(f"column {sm.table}.{column} is {found} in the warehouse but declared {vtype} in semantic model {sm.name}", sm.where)
    ctx.raise_if_any()
