"""The query surface: ``query_metrics``, ``explain``, ``capabilities``.

>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE tests (test_id BIGINT, product_id BIGINT, status VARCHAR, testing_type VARCHAR, end_at TIMESTAMP, created_by VARCHAR, submitted_by VARCHAR, test_environment_id BIGINT, test_environment_title VARCHAR)")
>>> _ = con.execute("INSERT INTO tests (test_id, status) VALUES (1, 'locked'), (2, 'cancelled')")
>>> int(query_metrics(["test_count"], warehouse=con).df["test_count"][0])
1
"""

from __future__ import annotations

import os
import time
from datetime import date

import pandas as pd
from sqlglot import exp

from semantic.answer.engines import ENGINE_DIALECTS, engine_of, open_engine
from semantic.answer.explain import describe_metric, explain_plan, no_match_note, scope_summary
from semantic.answer.freshness import TableFreshness, WarehouseLoadLogFreshness, freshness_warning
from semantic.answer.partial import partial_periods, partial_warning
from semantic.answer.materialised import table_of
from semantic.answer.result import MetricResult
from semantic.config import Guardrails
from semantic.errors import InvalidArgumentError, SemanticError, UnknownMetricError, WarehouseUnavailableError
from semantic.model.loader import load_model, validate_against_warehouse
from semantic.model.spec import Model, SavedQuery
from semantic.plan.arguments import shown
from semantic.plan.dates import ACCEPTED_FORMS, clock_day, resolve_date_range
from semantic.plan.invariants import additive_metrics
from semantic.plan.resolve import metric_inputs
from semantic.plan.saved_queries import SavedQueryRequest, resolve_saved_query
from semantic.plan.timegrain import LABELS
from semantic.sql.compiler import DIALECTS, compile_query
from semantic.sql.metrics import metric_dtype, metric_formula


def _model(model) -> Model:
    if model is None:
        return load_model()
    if isinstance(model, Model):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    raise InvalidArgumentError("model", f"model must be a loaded model (semantic.load_model(...)), the path of a "
                                        f"model directory, or None for the packaged model; not {shown(model)}")


def _config(config) -> Guardrails:
    if config is None:
        return Guardrails.from_env()
    if not isinstance(config, Guardrails):
        raise InvalidArgumentError("config", f"config must be semantic.Guardrails(...) or None for the configured "
                                             f"defaults; not {shown(config)}")
    return config


def _freshness(freshness) -> None:
    if freshness is not None and not callable(getattr(freshness, "table_freshness", None)):
        raise InvalidArgumentError("freshness", f"freshness must have a table_freshness(tables) method (a "
                                                f"semantic.FreshnessSource) or be None; not {shown(freshness)}")


def _prepare(metrics, dimensions, filters, start_date, end_date, sort_by, sort_order, limit,
             fill_missing, dialect, today, config, model, freshness=None):
    """Every argument checked (typed errors name the argument), then the query compiled."""
    model, config = _model(model), _config(config)
    _freshness(freshness)
    rng = resolve_date_range(start_date, end_date, today=clock_day(today))
    compiled = compile_query(model, metrics, dimensions, filters, date_start=rng.start, date_end=rng.end,
                             sort_by=sort_by, sort_order=sort_order, limit=limit, fill_missing=fill_missing,
                             dialect=dialect, config=config)
    return model, config, rng, compiled


def _tables(model, plan) -> list[str]:
    names = {model.models[s.model].table for s in plan.sources}
    if plan.scope_model:
        names.add(model.models[plan.scope_model].table)
    for d in plan.dimensions + tuple(f.dimension for f in plan.filters):
        dims = [model.dimensions[d]] + [model.dimensions[role] for _, role in model.dimensions[d].metric_roles]
        for dim in dims:
            for c in dim.key.find_all(exp.Column):
                if c.table:
                    names.add(model.models[c.table].table)
            names.update(model.models[lk].table for lk in dim.lookups)
    return sorted(names)


# The arguments that ask a question; a saved query is a whole question, given instead of them.
QUESTION_DEFAULTS = {"metrics": None, "dimensions": (), "filters": None, "start_date": None, "end_date": None,
                     "sort_by": None, "sort_order": "desc", "limit": None, "fill_missing": False}


def _given(name, value) -> bool:
    """Whether a question's argument was given (None, an empty list and the defaults were not)."""
    if name == "sort_order":
        return not (isinstance(value, str) and value.strip().lower() == QUESTION_DEFAULTS[name])
    if name == "fill_missing":
        return value is not False
    return value is not None and not (isinstance(value, (list, tuple, dict, set, str)) and len(value) == 0)


def _question(model, saved_query, today, asked: dict) -> tuple[dict, SavedQueryRequest | None]:
    """The question's arguments: those given, or the saved query's (which no other may join)."""
    if saved_query is None:
        if not _given("metrics", asked["metrics"]):
            visible = sorted(n for n, m in model.metrics.items() if not m.hidden)
            raise UnknownMetricError(f"no metric requested; give metrics (one or more of: {', '.join(visible)}) "
                                     f"or saved_query (one of: {', '.join(sorted(model.saved_queries))})")
        return asked, None
    request = resolve_saved_query(model, saved_query, today)
    conflicting = [name for name, value in asked.items() if _given(name, value)]
    if conflicting:
        arguments = request.arguments()
        if not arguments["sort_by"]:
            del arguments["sort_order"]
        own = ", ".join(f"{k}={_written(v)!r}" for k, v in arguments.items() if _given(k, v))
        raise InvalidArgumentError(
            "saved_query", f"saved_query={request.saved_query.name!r} is a whole question and takes no "
            f"{', '.join(conflicting)}; ask it as it is, or ask your variant of it directly: query_metrics({own})")
    return request.arguments(), request


def _compiled(arguments: dict):
    """From the arguments of ``query_metrics`` / ``explain``: the question asked (given, or the
    saved query's), the saved query resolved (or None), and the question checked and compiled."""
    model = _model(arguments["model"])
    asked, saved = _question(model, arguments["saved_query"], arguments["today"],
                             {name: arguments[name] for name in QUESTION_DEFAULTS})
    prepared = _prepare(**asked, dialect=arguments["dialect"], today=arguments["today"], config=arguments["config"],
                        model=model, freshness=arguments["freshness"])
    return (asked, saved, *prepared)


def _written(value):
    """An argument as a caller writes it: lists for tuples, ISO text for days."""
    if isinstance(value, tuple):
        return [_written(v) for v in value]
    if isinstance(value, dict):
        return {k: _written(v) for k, v in value.items()}
    return value.isoformat() if isinstance(value, date) else value


def _saved_query_notes(request: SavedQueryRequest | None, explanation: str, meta: dict) -> str:
    """The saved query's name, description and resolved dates, in the explanation and metadata."""
    if request is None:
        return explanation
    sq = request.saved_query
    meta["saved_query"] = {"name": sq.name, "description": sq.description, "dates": request.describe_dates(),
                           "as_of": request.today.isoformat()}
    return f"Saved query {sq.name}: {sq.description}\nDates: {request.describe_dates()}.\n{explanation}"


def explain(metrics=None, dimensions=(), filters=None, start_date=None, end_date=None, sort_by=None,
            sort_order="desc", limit=None, *, saved_query=None, fill_missing=False, dialect=None, warehouse=None,
            today=None, freshness=None, config=None, model=None) -> MetricResult:
    """Compile without executing: the SQL and the explanation (``df`` is empty), in ``dialect``,
    by default the dialect of the warehouse's engine (found without connecting). ``freshness``
    is accepted so that a call to ``query_metrics`` can become one to ``explain``."""
    dialect = ENGINE_DIALECTS[engine_of(warehouse)] if dialect is None else dialect
    asked, saved, model, config, rng, compiled = _compiled(locals())
    plan = compiled.plan
    meta = {"dimensions_used": list(plan.dimensions), "metrics_used": list(plan.metrics),
            "date_range": [_iso(rng.start), _iso(rng.end)], "dialect": dialect,
            "tables": _tables(model, plan)}
    explanation = _saved_query_notes(saved, explain_plan(model, plan), meta)
    return MetricResult(pd.DataFrame(), compiled.sql, explanation, list(plan.warnings), meta)


def _iso(moment):
    return moment.isoformat() if moment else None


def query_metrics(metrics=None, dimensions=(), filters=None, start_date=None, end_date=None, sort_by=None,
                  sort_order="desc", limit=None, *, saved_query=None, fill_missing=False, dialect=None,
                  warehouse=None, today=None, freshness=None, config=None, model=None) -> MetricResult:
    """Answer a metric question, or the model's saved query ``saved_query`` (by name, instead of
    ``metrics`` and the other arguments of a question; its dates resolve against ``today``).

    The SQL is rendered for the warehouse's engine and runs there (``warehouse``: a DuckDB file
    or connection, ``md:`` MotherDuck, a ``postgresql://`` URL or psycopg2 connection, a Spark
    session; :mod:`semantic.answer.engines`); ``metadata["engine"]`` says which ran it.
    ``dialect`` alone means "show me that SQL": the answer is still computed on the warehouse's
    engine and ``.sql`` is the rendering in ``dialect``, which a warning and
    ``metadata["sql_ran"] == False`` say.

    Rows of periods that are still open or cut by the date range are named in the warnings,
    ``metadata["partial_periods"]`` and ``df.attrs["partial_periods"]`` (semantic.answer.partial)."""
    started = time.perf_counter()
    today = clock_day(today)  # one clock reading for the dates and the partial periods
    dialect = ENGINE_DIALECTS[engine_of(warehouse)] if dialect is None else dialect
    asked, saved, model, config, rng, compiled = _compiled(locals())
    plan = compiled.plan
    tables = _tables(model, plan)
    with open_engine(warehouse) as con:
        run = compiled if dialect == con.dialect else compile_query(
            model, asked["metrics"], asked["dimensions"], asked["filters"], date_start=rng.start, date_end=rng.end,
            sort_by=asked["sort_by"], sort_order=asked["sort_order"], limit=asked["limit"],
            fill_missing=asked["fill_missing"], dialect=con.dialect, config=config)
        df = _execute(con, run.probe_sql, config, model)
        total = len(df)
        if total > plan.limit:
            df = df.iloc[: plan.limit]
            total = int(_execute(con, run.count_sql, config, model).iloc[0, 0])
        fresh, warnings_extra = _table_freshness(
            WarehouseLoadLogFreshness(con) if freshness is None else freshness, tables)
        engine = con.describe()
    if run is not compiled:
        warnings_extra.append(shown_not_run(dialect, engine))
    df = _types(model, plan, df)
    partial = {d: p for d in plan.dimensions if (dim := model.dimensions[d]).is_time
               and (p := partial_periods(dim.granularity, df[d], rng, today))}
    df.attrs["partial_periods"] = partial
    warnings = list(plan.warnings) + warnings_extra + [partial_warning(d, p) for d, p in partial.items()]
    explanation = explain_plan(model, plan)
    if _nothing_matched(plan, df) and (note := no_match_note(model, plan)):
        warnings.append(note)
        explanation += "\n" + note
    warnings += [w for f in fresh.values() if (w := freshness_warning(f))]
    if total > len(df):
        warnings.append(f"showing {len(df)} of {total} rows (limit {plan.limit})")
    meta = {
        "query_time_ms": (time.perf_counter() - started) * 1000.0, "total_rows": total,
        "dimensions_used": list(plan.dimensions), "metrics_used": list(plan.metrics),
        "date_range": [_iso(rng.start), _iso(rng.end)], "dialect": dialect, "tables": tables,
        "freshness": {t: f.to_dict() for t, f in fresh.items()}, "partial_periods": partial,
        "additive_metrics": list(additive_metrics(model, plan)), "engine": engine, "sql_ran": run is compiled,
    }
    explanation = _saved_query_notes(saved, explanation, meta)
    return MetricResult(df, compiled.sql, explanation, warnings, meta)


def shown_not_run(dialect: str, engine: dict) -> str:
    """The warning of an answer whose ``.sql`` is another dialect's rendering than the one that ran."""
    return (f"computed on {engine['engine']} ({engine['warehouse']}) with SQL in its own dialect; the SQL shown is "
            f"the {dialect} rendering of the same question, not what ran (to run it on {dialect}, give a "
            f"warehouse of that engine)")


def _nothing_matched(plan, df) -> bool:
    """No rows, or only rows in which every metric is 0 or NULL (the groups in scope, empty)."""
    values = df[list(plan.metrics)]
    return bool(((values == 0) | values.isna()).all(axis=None))


def _execute(con, sql: str, config: Guardrails, model: Model):
    """Run the SQL; when the warehouse lacks a table or column, say which line of which model
    file declares it (a typo there), else (none of the model's tables is there) that the
    warehouse needs building."""
    try:
        return con.query(sql, config.query_timeout_s)
    except WarehouseUnavailableError:
        present = {table for table, _, _ in con.catalog_columns()}
        if present & {sm.table for sm in model.models.values()}:
            validate_against_warehouse(model, con)
        raise


def _table_freshness(source, tables) -> tuple[dict, list[str]]:
    """The freshness of each table read, and a warning instead when the source cannot tell:
    freshness never breaks an answer."""
    try:
        fresh = dict(source.table_freshness(tables))
    except SemanticError:
        raise
    except Exception as e:  # noqa: BLE001 - a freshness source is code the caller brings
        return {}, [f"freshness could not be determined: {e}"]
    wrong = next((f for f in fresh.values() if not isinstance(f, TableFreshness)), None)
    if wrong is not None:
        return {}, [f"freshness could not be determined: the freshness source returned {shown(wrong)}, "
                    f"not a TableFreshness"]
    return fresh, []


def _types(model, plan, df):
    for name in plan.metrics:
        df[name] = df[name].astype(metric_dtype(model, model.metrics[name]))
    for d in plan.dimensions:
        dim = model.dimensions[d]
        if dim.has_id and f"{d}_id" in df and dim.value_type == "integer":
            df[f"{d}_id"] = df[f"{d}_id"].astype("Int64")
    return df


def saved_query_names(model=None) -> tuple[str, ...]:
    """The names of the model's saved queries (``model``: as ``query_metrics`` takes it)."""
    return tuple(sorted(_model(model).saved_queries))


def describe_saved_query(sq: SavedQuery) -> dict:
    """A saved query as plain data: its question as written, its table and its exports."""
    return {
        "name": sq.name, "description": sq.description, "metrics": list(sq.metrics), "group_by": list(sq.group_by),
        "where": sq.filters or {}, "order_by": list(sq.order_by), "limit": sq.limit, "start_date": sq.start_date,
        "end_date": sq.end_date, "fill_missing": sq.fill_missing, "table": table_of(sq.name),
        "exports": [{"name": e.name, "format": e.format, "path": e.path} for e in sq.exports],
    }


def capabilities(model=None) -> dict:
    """What can be asked: dimensions, metrics with formulas, saved queries, filter syntax, limits,
    date forms."""
    model = _model(model)
    config = Guardrails.from_env()
    dims = {}
    for name, d in sorted(model.dimensions.items()):
        dims[name] = {
            "description": d.description, "grain": model.models[d.model].entity, "has_id": d.has_id,
            "id_column": f"{name}_id" if d.has_id else None, "value_type": d.label_type or d.value_type,
            "allowed_values": list(d.allowed_values) if d.allowed_values is not None else None,
            "metric_roles": dict(d.metric_roles),
            "time_granularity": d.granularity,
            "label_format": LABELS[d.granularity].example if d.is_time else None,
        }
    metrics = {}
    for name, m in sorted(model.metrics.items()):
        if m.hidden:
            continue
        sources = sorted({model.metrics[i.metric].model for i in metric_inputs(model, m)})
        metrics[name] = {"description": m.description, "type": m.type, "sources": sources,
                         "formula": describe_metric(model, m), "sql": metric_formula(model, m)}
    return {
        "dimensions": dims, "metrics": metrics,
        "saved_queries": {name: describe_saved_query(sq) for name, sq in sorted(model.saved_queries.items())},
        "filters": {"syntax": "{dimension: value} equality; {dimension: [v1, v2]} IN; {dimension: None} IS NULL; "
                              "[v1, None] IN or NULL; '<dimension>_id' filters on the id of entity dimensions; "
                              "a value outside a dimension's allowed_values is an InvalidFilterValueError",
                    "scope": scope_summary(model)},
        "limits": {"max_dimensions": config.max_dimensions, "default_row_limit": config.default_row_limit,
                   "max_row_limit": config.max_row_limit, "query_timeout_s": config.query_timeout_s},
        "date_forms": list(ACCEPTED_FORMS),
        "dialects": list(DIALECTS),
    }
