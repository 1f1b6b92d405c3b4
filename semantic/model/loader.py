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
import os
from collections import deque
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlglot import exp

from semantic.errors import ModelValidationError, did_you_mean
from semantic.model import schema
from semantic.model.schema_problems import schema_problems
from semantic.model.source import Problems, display_path, parse_expression, read_model_file
from semantic.model.spec import (
    DefaultScope,
    Dimension,
    Export,
    Join,
    Location,
    Metric,
    MetricInput,
    Model,
    SavedQuery,
    SemanticModel,
    fits_type,
)

MODELS_DIR = Path(__file__).parent.parent / "models"


def _read(paths: list[Path], ctx: Problems) -> list[tuple[str, schema.ModelFile]]:
    """Every file read and checked against the declared schema (problems of all files together)."""
    files = []
    for path in paths:
        doc = read_model_file(path, ctx)
        if doc is None:
            continue
        shown = display_path(path)
        try:
            files.append((shown, schema.ModelFile.model_validate(doc)))
        except ValidationError as e:
            for message, where in schema_problems(e, doc, shown):
                ctx.error(message, where)
    return files


def _build_models(ctx: Problems, files) -> dict[str, SemanticModel]:
    raw: dict[str, tuple[str, schema.SemanticModel]] = {}
    for file, doc in files:
        for node in doc.semantic_models:
            if node.name in raw:
                first_file, first = raw[node.name]
                ctx.error(f"duplicate semantic model {node.name!r} (also at {first_file}:{first.line_of()})",
                          Location(file, node.line_of("name")))
                continue
            raw[node.name] = (file, node)
    models = {}
    for name, (file, node) in raw.items():
        columns = node.columns
        for col in node.primary_key:
            if col not in columns:
                ctx.error(f"unknown primary key column {col!r} in semantic model {name}{did_you_mean(col, columns)}",
                          Location(file, node.line_of("primary_key")))
        joins = []
        for jn in node.joins:
            where = Location(file, jn.line_of())
            if jn.to not in raw:
                ctx.error(f"unknown join target {jn.to!r} in semantic model {name}{did_you_mean(jn.to, raw)}", where)
                continue
            target = raw[jn.to][1]
            for s, t in jn.on.items():
                if s not in columns:
                    ctx.error(f"unknown column {s!r} in join {name} -> {jn.to}{did_you_mean(s, columns)}",
                              Location(file, jn.line_of("on", s)))
                if t not in target.columns:
                    ctx.error(f"unknown column {t!r} of {jn.to} in join {name} -> {jn.to}{did_you_mean(t, target.columns)}",
                              Location(file, jn.line_of("on", s)))
            if jn.type == "many_to_one" and tuple(jn.on.values()) != tuple(target.primary_key):
                ctx.error(f"join {name} -> {jn.to} is many_to_one but does not join on {jn.to}'s primary key", where)
            joins.append(Join(name, jn.to, jn.type, tuple(jn.on.items()), jn.bridge, jn.required, where))
        scope = node.default_scope
        models[name] = SemanticModel(
            name=name, table=node.table or name, description=node.description, primary_key=tuple(node.primary_key),
            columns=tuple(columns.items()), joins=tuple(joins),
            default_scope=DefaultScope(scope.dimension, tuple(scope.values), scope.description or "the default scope",
                                       Location(file, scope.line_of("values"))) if scope else None,
            entity=node.entity or name, entities=node.entities or name, where=Location(file, node.line_of()),
            table_where=Location(file, node.line_of("table" if node.table else "name")),
            column_where=tuple((c, Location(file, node.line_of("columns", c))) for c in columns),
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


def _build_dimensions(ctx, files, models) -> dict[str, Dimension]:
    dims: dict[str, Dimension] = {}
    seen: dict[str, Location] = {}

    def claim(name, where) -> bool:
        if name in seen:
            ctx.error(f"duplicate dimension {name!r} (also at {seen[name]})", where)
            return False
        seen[name] = where
        return True

    for file, doc in files:
        for node in doc.dimensions:
            name, where = node.name, Location(file, node.line_of())

            def at(key, inner=None):
                return Location(file, node.line_of(key, inner))

            what = f"dimension {name}"
            if not claim(name, where):
                continue
            model = node.model
            if model not in models:
                ctx.error(f"unknown model {model!r} in {what}{did_you_mean(model, models)}", at("model"))
                continue
            key = parse_expression(ctx, node.key, at("key"), f"key of {what}")
            if key is None:
                continue
            _check_columns(ctx, models, model, key, at("key"), what)
            key_column = key.name if isinstance(key, exp.Column) else name
            overrides = []
            for src, text in node.overrides.items():
                if src not in models:
                    ctx.error(f"unknown model {src!r} in overrides of {what}{did_you_mean(src, models)}", at("overrides", src))
                    continue
                ov = parse_expression(ctx, text, at("overrides", src), f"override of {what}")
                if ov is not None:
                    _check_columns(ctx, models, src, ov, at("overrides", src), what)
                    overrides.append((src, ov))
            id_expr = None
            if node.id is not None:
                id_expr = parse_expression(ctx, node.id, at("id"), f"id of {what}")
                if id_expr is not None:
                    for c in id_expr.find_all(exp.Column):
                        if c.table or c.name != "key":
                            ctx.error(f"the id of {what} may only reference 'key', not {c.sql()!r}", at("id"))
            label_expr, lookups, label_type = None, (), None
            if node.label is not None:
                lookups = tuple(node.label.lookup)
                label_expr = parse_expression(ctx, node.label.expr, at("label"), f"label of {what}")
                for lk in lookups:
                    if lk not in models:
                        ctx.error(f"unknown lookup model {lk!r} in {what}{did_you_mean(lk, models)}", at("label"))
                    elif models[lk].column_type(key_column) is None:
                        ctx.error(f"lookup model {lk} of {what} has no column {key_column!r} to look the label up by", at("label"))
                if label_expr is not None and all(lk in models for lk in lookups):
                    _check_columns(ctx, models, lookups[0] if lookups else model, label_expr, at("label"), what,
                                   allowed_tables=set(lookups))
                    cols = list(label_expr.find_all(exp.Column))
                    label_type = models[cols[0].table].column_type(cols[0].name) if cols and cols[0].table in models else "string"
            members_model = None
            if node.members is not None:
                members_model = node.members.model
                if members_model not in models:
                    ctx.error(f"unknown members model {members_model!r} in {what}{did_you_mean(members_model, models)}", at("members"))
                    members_model = None
            value_type = node.value_type or _type_of(models, model, key)
            allowed = tuple(node.allowed_values) if node.allowed_values is not None else None
            _check_values(ctx, allowed or (), label_type or value_type, at("allowed_values"), f"allowed_values of {what}")
            dims[name] = Dimension(
                name=name, description=node.description, model=model, key=key, key_column=key_column,
                value_type=value_type, overrides=tuple(overrides), id_expr=id_expr, label_expr=label_expr,
                label_type=label_type, lookups=lookups, members_model=members_model, allowed_values=allowed,
                filter_description=node.filter_description, where=where,
                metric_roles=tuple(node.metric_roles.items()),
            )
        for node in doc.time_dimensions:
            where = Location(file, node.line_of())
            what = f"time dimension {node.name}"
            if node.model not in models:
                ctx.error(f"unknown model {node.model!r} in {what}{did_you_mean(node.model, models)}", where)
                continue
            expression = parse_expression(ctx, node.expr, Location(file, node.line_of("expr")), what)
            if expression is None:
                continue
            _check_columns(ctx, models, node.model, expression, Location(file, node.line_of("expr")), what)
            if _type_of(models, node.model, expression) != "timestamp":
                ctx.error(f"{what} must be a timestamp column", where)
            for grain in node.granularities:
                if not claim(grain, where):
                    continue
                dims[grain] = Dimension(
                    name=grain, description=f"{node.description} Truncated to the {grain}.".strip(),
                    model=node.model, key=expression, key_column=grain, value_type="string",
                    granularity=grain, where=where,
                )
    return dims


def _check_values(ctx, values, value_type, where, what) -> bool:
    """Declared values are of the dimension's type (``5`` can never equal a severity)."""
    wrong = [value for value in values if not fits_type(value, value_type)]
    for value in wrong:
        ctx.error(f"{value!r} in {what} is not of the dimension's type {value_type}"
                  f"{'; quote it if you mean the text' if value_type == 'string' else ''}", where)
    return not wrong


def _metric_input(ctx, raw: schema.MetricInput, where, what) -> MetricInput:
    flt = parse_expression(ctx, raw.filter, where, f"filter of {what}") if raw.filter is not None else None
    return MetricInput(raw.metric, flt, raw.alias)


def _build_metrics(ctx, files, models, dims) -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}
    for file, doc in files:
        for node in doc.metrics:
            name, where = node.name, Location(file, node.line_of())

            def at(key):
                return Location(file, node.line_of(key))

            what = f"metric {name}"
            if name in metrics:
                ctx.error(f"duplicate metric {name!r} (also at {metrics[name].where})", where)
                continue
            if name in dims:
                ctx.error(f"metric {name!r} has the name of a dimension", where)
                continue
            kwargs: dict[str, Any] = {}
            if isinstance(node, schema.AggregationMetric):
                if node.model not in models:
                    ctx.error(f"unknown model {node.model!r} in {what}{did_you_mean(node.model, models)}", at("model"))
                    continue
                expression = parse_expression(ctx, node.expr, at("expr"), what)
                flt = parse_expression(ctx, node.filter, at("filter"), f"filter of {what}") if node.filter is not None else None
                for e, field_name in ((expression, "expr"), (flt, "filter")):
                    if e is not None:
                        _check_columns(ctx, models, node.model, e, at(field_name), what)
                kwargs = dict(model=node.model, expr=expression, filter=flt, expr_sql=node.expr, filter_sql=node.filter or "")
            elif isinstance(node, schema.RatioMetric):
                kwargs = dict(
                    numerator=_metric_input(ctx, node.numerator, at("numerator"), f"numerator of {what}"),
                    denominator=_metric_input(ctx, node.denominator, at("denominator"), f"denominator of {what}"),
                )
            else:
                inputs = tuple(_metric_input(ctx, i, at("inputs"), f"input of {what}") for i in node.inputs)
                kwargs = dict(inputs=inputs, expr=parse_expression(ctx, node.expr, at("expr"), what), expr_sql=node.expr)
            metrics[name] = Metric(name=name, description=node.description, type=node.type, hidden=node.hidden,
                                   where=where, **kwargs)
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
    for model in scoped:
        scope, what = model.default_scope, f"default_scope of {model.name}"
        if scope.dimension not in dims:
            ctx.error(f"unknown dimension {scope.dimension!r} in {what}{did_you_mean(scope.dimension, dims)}", model.where)
            continue
        dim = dims[scope.dimension]
        if dim.model != model.name:
            ctx.error(f"{what} must use one of its own dimensions, not {dim.name}", model.where)
        if not _check_values(ctx, scope.values, dim.label_type or dim.value_type, scope.where, f"values of {what}"):
            continue
        for value in scope.values:
            if dim.allowed_values is not None and value not in dim.allowed_values:
                ctx.error(f"value {value!r} of {what} is not an allowed value of {dim.name}"
                          f"{did_you_mean(str(value), map(str, dim.allowed_values))}", scope.where)


def _build_saved_queries(ctx, files, dims, metrics) -> dict[str, SavedQuery]:
    """Saved queries whose names all resolve: metrics, group_by, where keys, order_by (among
    the answer's columns, one direction) and exports (relative paths, one file per export).
    What needs planning (filter values, dates, roles) is checked by ``semantic.plan.saved_queries``."""
    saved: dict[str, SavedQuery] = {}
    export_paths: dict[str, Location] = {}
    visible = [n for n, m in metrics.items() if not m.hidden]
    filterable = list(dims) + [f"{n}_id" for n, d in dims.items() if d.has_id]
    for file, doc in files:
        for node in doc.saved_queries:
            name, where, params = node.name, Location(file, node.line_of()), node.query_params
            what = f"saved query {name}"

            def at(key, inner=None):
                return Location(file, params.line_of(key, inner))

            if name in saved:
                ctx.error(f"duplicate saved query {name!r} (also at {saved[name].location})", where)
                continue
            if name in metrics or name in dims:
                kind = "metric" if name in metrics else "dimension"
                ctx.error(f"{what} has the name of a {kind}; give it a name of its own", where)
            for i, metric in enumerate(params.metrics):
                if metric not in visible:
                    ctx.error(f"unknown metric {metric!r} in {what}{did_you_mean(metric, visible)}", at("metrics", i))
            for i, dim in enumerate(params.group_by):
                if dim not in dims:
                    ctx.error(f"unknown dimension {dim!r} in group_by of {what}{did_you_mean(dim, dims)}",
                              at("group_by", i))
            for key in params.where:
                if key not in filterable:
                    ctx.error(f"unknown dimension {key!r} in where of {what}{did_you_mean(key, filterable)}",
                              at("where", key))
            columns = [*params.metrics, *params.group_by,
                       *(f"{d}_id" for d in params.group_by if d in dims and dims[d].has_id)]
            for i, item in enumerate(params.order_by):
                if item.lstrip("-") not in columns:
                    ctx.error(f"cannot order {what} by {item.lstrip('-')!r}{did_you_mean(item.lstrip('-'), columns)}; "
                              f"order by its metrics or group_by dimensions: {', '.join(columns)}", at("order_by", i))
            if len({item.startswith("-") for item in params.order_by}) > 1:
                ctx.error(f"order_by of {what} sorts some keys ascending and others descending; every key sorts "
                          f"one way: write '-' before every name (descending) or before none", at("order_by"))
            exports = _exports(ctx, file, node, what, export_paths)
            saved[name] = SavedQuery(
                name=name, description=node.description, metrics=tuple(params.metrics),
                group_by=tuple(params.group_by),
                where=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in params.where.items()),
                order_by=tuple(params.order_by), limit=params.limit, start_date=params.start_date,
                end_date=params.end_date, fill_missing=params.fill_missing, exports=exports, location=where,
                lines=tuple((key, at(key)) for key in type(params).model_fields if key in params.model_fields_set),
            )
    return saved


def _exports(ctx, file, node, what, export_paths: dict[str, Location]) -> tuple[Export, ...]:
    """A saved query's exports, each to a relative path inside the exports directory that no
    other export writes."""
    exports, names = [], set()
    for item in node.exports:
        where = Location(file, item.line_of())
        if item.name in names:
            ctx.error(f"duplicate export {item.name!r} in {what}", where)
            continue
        names.add(item.name)
        fmt = item.config.format
        path = item.config.path or f"{item.name}.{fmt}"
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\\" in path or path.startswith("~"):
            ctx.error(f"export {item.name} of {what}: path {path!r} must be relative to the exports directory, "
                      f"without '..' (e.g. {item.name}.{fmt})", Location(file, item.config.line_of("path")))
            continue
        if pure.suffix.lower() != f".{fmt}":
            ctx.error(f"export {item.name} of {what}: path {path!r} does not end in .{fmt}, its format",
                      Location(file, item.config.line_of("path")))
            continue
        if str(pure) in export_paths:
            ctx.error(f"export {item.name} of {what} writes {path}, as the export at {export_paths[str(pure)]} does; "
                      f"give it another path", where)
            continue
        export_paths[str(pure)] = where
        exports.append(Export(item.name, fmt, str(pure), where))
    return tuple(exports)


def build_model(paths: list[Path]) -> Model:
    """Load and validate the given YAML files (raises :class:`ModelValidationError`).

    Files that break the schema are reported together, before any check across files (whose
    findings would only echo what a broken file failed to declare)."""
    ctx = Problems()
    files = _read(paths, ctx)
    ctx.raise_if_any()
    models = _build_models(ctx, files)
    dims = _build_dimensions(ctx, files, models)
    metrics = _build_metrics(ctx, files, models, dims)
    _check_roles(ctx, dims, metrics)
    _check_scopes(ctx, models, dims)
    saved = _build_saved_queries(ctx, files, dims, metrics)
    ctx.raise_if_any()
    return Model(models=models, dimensions=dims, metrics=metrics, files=tuple(display_path(p) for p in paths),
                 saved_queries=saved)


@functools.lru_cache(maxsize=8)
def _load_cached(files: tuple[str, ...], stamps: tuple[int, ...]) -> Model:
    return build_model([Path(f) for f in files])


def load_model(path: str | os.PathLike | None = None, *, warehouse=None) -> Model:
    """Load (and cache until a file changes) the semantic model from a directory of YAML files or
    one file; given a DuckDB connection as ``warehouse``, also check every table and column the
    model declares exists there (:func:`validate_against_warehouse`)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ModelValidationError(f"the model path must be a directory or file path, not {type(path).__name__} {path!r}")
    root = Path(path) if path is not None else MODELS_DIR
    try:
        exists, is_dir = root.exists(), root.is_dir()
    except (OSError, ValueError) as e:  # a NUL in the name, a name too long
        raise ModelValidationError(f"semantic model path {str(root)!r} cannot be used: {e}") from None
    if not exists:
        raise ModelValidationError(f"semantic model path {root} does not exist", file=str(root))
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml")) if is_dir else [root]
    if not files:
        raise ModelValidationError(f"no YAML model files in {root}", file=str(root))
    model = _load_cached(tuple(map(str, files)), tuple(f.stat().st_mtime_ns for f in files))
    if warehouse is not None:
        validate_against_warehouse(model, warehouse)
    return model


# Type names as DuckDB, PostgreSQL (information_schema: "character varying", "numeric") and Spark spell them.
_TYPE_FAMILIES = {"integer": ("INT", "DECIMAL", "NUMERIC"), "string": ("VARCHAR", "CHAR", "TEXT", "STRING"),
                  "boolean": ("BOOL",), "timestamp": ("TIMESTAMP", "DATE"),
                  "float": ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")}
CATALOG_SQL = ("SELECT table_name, column_name, data_type FROM information_schema.columns "
               "WHERE table_schema = current_schema()")


def validate_against_warehouse(model: Model, con) -> None:
    """Check every declared table and column exists in the warehouse with a compatible type; a
    typo is reported at the line that declares the table or column, with a did-you-mean over
    what the warehouse has."""
    ctx = Problems()
    # The model's tables live in the default schema (metrics.* are answers). ``con``: a DuckDB
    # connection, or any engine's (semantic.answer.engines), which lists its own catalog.
    rows = con.catalog_columns() if hasattr(con, "catalog_columns") else con.execute(CATALOG_SQL).fetchall()
    actual: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        actual.setdefault(table, {})[column] = data_type.upper()
    for sm in model.models.values():
        if sm.table not in actual:
            ctx.error(f"table {sm.table!r} of semantic model {sm.name} is not in the warehouse"
                      f"{did_you_mean(sm.table, actual)}", sm.table_where or sm.where)
            continue
        for column, vtype in sm.columns:
            found = actual[sm.table].get(column)
            if found is None:
                ctx.error(f"unknown column {column!r} in semantic model {sm.name}: table {sm.table} has no such column"
                          f"{did_you_mean(column, actual[sm.table])}", sm.column_location(column))
            elif not any(f in found for f in _TYPE_FAMILIES[vtype]):
                ctx.error(f"column {sm.table}.{column} is {found} in the warehouse but declared {vtype} in semantic "
                          f"model {sm.name}", sm.column_location(column))
    ctx.raise_if_any()
