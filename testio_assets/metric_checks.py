"""Asset checks of the metric tables: the numbers a team reports are checked, not only written.

Each saved query's asset gets one multi-asset check (one step, one read-only connection), and
the asset runs the same checks on a new version inside its write transaction
(:func:`audit_metric`): a version failing one is rolled back, never published. All are blocking.

- ``<name>_matches_fresh_answer``: the stored table equals a fresh ``query_metrics`` answer to
  the saved query over the same warehouse version, its dates resolved on the same day (the
  ``as_of`` of its load log). When a table it reads has been written since the answer was
  stored, the two cannot be compared: the check warns that the table is behind its inputs.
- ``<name>_shares_within_0_1`` (saved queries with shares, :mod:`semantic.plan.invariants`):
  every share is within [0, 1] or NULL.
- ``<name>_groups_add_up`` (grouped saved queries with additive metrics, no limit): for each
  additive metric, the sum of its groups equals its ungrouped total over the same scope (same
  filters and dates), computed afresh. Metrics that are not additive over the saved query's
  dimensions (a test counted once per feature, distinct testers per month) are left out, and
  the check's description names the ones it covers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
from sqlglot import exp

from semantic.answer.engines import open_engine
from semantic.answer.materialised import MaterialisedAnswer, NotMaterialisedError, read_materialised
from semantic.model.spec import Model
from semantic.plan.saved_queries import resolve_saved_query
from semantic.surfaces.query import query_metrics
from testio_assets.metric_tables import MetricTable, answer, guardrails, input_loads, semantic_warehouse
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource
from testio_assets.warehouse.schema import SAVED_QUERY_LOADS
from testio_assets.warehouse.sql import render

SAMPLE_SIZE = 5
REL_TOLERANCE = 1e-9  # floats summed in another order may differ in their last digits

CheckOutcome = dict[str, Any]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return a == b


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _rows_by_key(frame: pd.DataFrame, keys: Sequence[str]) -> dict[tuple, tuple]:
    values = [c for c in frame.columns if c not in keys]
    return {tuple(_plain(row[k]) for k in keys): tuple(_plain(row[v]) for v in values)
            for row in frame.to_dict("records")}


def answer_differences(stored: pd.DataFrame, fresh: pd.DataFrame, keys: Sequence[str]) -> dict[str, Any]:
    """How a stored answer differs from a fresh one, rows matched on the dimension columns
    ``keys``: missing and extra groups, groups whose values differ (each with a few samples)."""
    if list(stored.columns) != list(fresh.columns):
        return {"columns": {"stored": list(stored.columns), "fresh": list(fresh.columns)}}
    mine, theirs = _rows_by_key(stored, keys), _rows_by_key(fresh, keys)
    differing = [k for k in mine.keys() & theirs.keys()
                 if not all(_same(a, b) for a, b in zip(mine[k], theirs[k]))]
    found = {
        "groups_missing": sorted(theirs.keys() - mine.keys(), key=str),
        "groups_extra": sorted(mine.keys() - theirs.keys(), key=str),
        "groups_differing": sorted(differing, key=str),
    }
    if len(stored) != len(mine):
        found["duplicated_groups"] = [len(stored) - len(mine)]
    return {
        name: {"count": len(items), "sample": [
            {"group": list(k), "stored": list(mine.get(k, ())), "fresh": list(theirs.get(k, ()))}
            for k in items[:SAMPLE_SIZE]] if name != "duplicated_groups" else []}
        for name, items in found.items() if items
    }


def _changed_inputs(con: duckdb.DuckDBPyConnection, metric: MetricTable) -> dict[str, list]:
    """Tables read whose load differs from the one the stored answer was computed from."""
    logged = json.loads(con.execute(render(exp.select("inputs_loaded_at").from_(SAVED_QUERY_LOADS.relation()).where(exp.column("saved_query").eq(exp.Placeholder()))),
                                    [metric.name]).fetchone()[0])
    now = input_loads(con, metric.reads)
    return {t: [logged.get(t), now[t]] for t in metric.reads if logged.get(t) != now[t]}


def matches_fresh_answer(model: Model, metric: MetricTable, con, stored: MaterialisedAnswer) -> CheckOutcome:
    changed = _changed_inputs(con, metric)
    if changed:
        return dict(passed=False, severity=dg.AssetCheckSeverity.WARN,
                    description=f"{', '.join(changed)} changed after this answer was stored, so it cannot be "
                                f"compared with a fresh one: materialise {metric.key.to_user_string()} again",
                    metadata={"inputs_changed": dg.MetadataValue.json(changed), "violations": len(changed)})
    fresh = answer(model, metric.saved_query, con, stored.as_of).df
    keys = [c for c in fresh.columns if c not in metric.saved_query.metrics]
    differences = answer_differences(stored.df, fresh, keys)
    return dict(
        passed=not differences,
        description=None if not differences else "the stored table differs from a fresh answer over the same "
                                                 "warehouse version: " + ", ".join(differences),
        metadata={"violations": sum(d.get("count", 1) for d in differences.values()), "rows_stored": len(stored.df),
                  "rows_fresh": len(fresh), "as_of": stored.as_of.isoformat(), "dates": stored.dates,
                  "differences": dg.MetadataValue.json(differences)},
    )


def shares_within_bounds(metric: MetricTable, stored: MaterialisedAnswer) -> CheckOutcome:
    out_of_bounds = {}
    for share in metric.shares:
        values = pd.to_numeric(stored.df[share], errors="coerce")
        bad = stored.df[values.notna() & ((values < 0) | (values > 1))]
        if len(bad):
            sample = json.loads(bad.head(SAMPLE_SIZE).to_json(orient="records"))
            out_of_bounds[share] = {"count": len(bad), "sample": sample}
    return dict(
        passed=not out_of_bounds,
        description="; ".join(f"{share}: {v['count']} row(s) outside [0, 1]" for share, v in out_of_bounds.items())
        or None,
        metadata={"violations": sum(v["count"] for v in out_of_bounds.values()),
                  "shares": dg.MetadataValue.json(list(metric.shares)),
                  "out_of_bounds": dg.MetadataValue.json(out_of_bounds)},
    )


def groups_add_up(model: Model, metric: MetricTable, con, stored: MaterialisedAnswer) -> CheckOutcome:
    sq = metric.saved_query
    args = resolve_saved_query(model, sq, stored.as_of).arguments()
    total = query_metrics(list(metric.additive), filters=args["filters"], start_date=args["start_date"],
                          end_date=args["end_date"], warehouse=semantic_warehouse(con), model=model, config=guardrails(sq)).df
    sums, mismatched = {}, {}
    for name in metric.additive:
        grouped = _plain(stored.df[name].sum())
        expected = _plain(total[name].iloc[0])
        sums[name] = {"sum_of_groups": grouped, "total": expected}
        if not _same(grouped, expected):
            mismatched[name] = sums[name]
    return dict(passed=not mismatched,
                description="; ".join(f"{name}: the groups add up to {v['sum_of_groups']}, the total over the same "
                                      f"scope is {v['total']}" for name, v in mismatched.items()) or None,
                metadata={"violations": len(mismatched), "sums": dg.MetadataValue.json(sums)})


def check_specs(metric: MetricTable) -> list[dg.AssetCheckSpec]:
    """The checks of one metric table; all blocking (ERROR), as the ingestion checks are."""
    name, sq = metric.name, metric.saved_query
    specs = [dg.AssetCheckSpec(
        f"{name}_matches_fresh_answer", asset=metric.key, blocking=True,
        description=f"The stored table equals a fresh query_metrics(saved_query={name!r}) over the same warehouse "
                    "version, its dates resolved on the day it was stored (warns when an input changed since).")]
    if metric.shares:
        specs.append(dg.AssetCheckSpec(
            f"{name}_shares_within_0_1", asset=metric.key, blocking=True,
            description=f"{', '.join(metric.shares)}: within [0, 1] or NULL (a share counts a subset of its "
                        f"denominator)."))
    if metric.checks_sums:
        left_out = [m for m in sq.metrics if m not in metric.additive]
        specs.append(dg.AssetCheckSpec(
            f"{name}_groups_add_up", asset=metric.key, blocking=True,
            description=f"{', '.join(metric.additive)}: the groups by {', '.join(sq.group_by)} add up to the "
                        f"ungrouped total over the same filters and dates"
                        + (f" ({', '.join(left_out)} are not additive over them)." if left_out else ".")))
    return specs


def _evaluations(model: Model, metric: MetricTable) -> dict[str, Callable[[Any, MaterialisedAnswer], CheckOutcome]]:
    return {
        f"{metric.name}_matches_fresh_answer": lambda con, stored: matches_fresh_answer(model, metric, con, stored),
        f"{metric.name}_shares_within_0_1": lambda con, stored: shares_within_bounds(metric, stored),
        f"{metric.name}_groups_add_up": lambda con, stored: groups_add_up(model, metric, con, stored),
    }


def _outcomes(model: Model, metric: MetricTable, con, specs) -> dict[str, CheckOutcome]:
    try:
        with open_engine(semantic_warehouse(con)) as engine:
            stored = read_materialised(engine, metric.name)
    except NotMaterialisedError as exc:
        return {s.name: dict(passed=False, description=str(exc), metadata={"violations": -1}) for s in specs}
    evaluate = _evaluations(model, metric)
    return {s.name: evaluate[s.name](con, stored) for s in specs}


def audit_metric(model: Model, metric: MetricTable, con: duckdb.DuckDBPyConnection) -> list[str]:
    """The checks a metric table's version on ``con`` fails with severity ERROR (run by the asset
    inside its write transaction, so a failing version is never committed), each as
    ``name (what is wrong)``."""
    outcomes = _outcomes(model, metric, con, check_specs(metric))
    return [f"{name} ({o.get('description') or 'failed'})" for name, o in outcomes.items()
            if not o["passed"] and o.get("severity", dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR]


def saved_query_checks(model: Model, metric: MetricTable) -> dg.AssetChecksDefinition:
    specs = check_specs(metric)

    @dg.multi_asset_check(name=f"{metric.name}_checks", specs=specs, pool=WRITER_POOL,
                          description=f"Checks of the numbers in {metric.table.qualified_name}.")
    def checks(warehouse: WarehouseResource):
        with warehouse.reader() as con:
            outcomes = _outcomes(model, metric, con, specs)
        for spec in specs:
            yield dg.AssetCheckResult(asset_key=metric.key, check_name=spec.name, **outcomes[spec.name])

    return checks


def metric_checks(model: Model, metrics: Sequence[MetricTable]) -> list[dg.AssetChecksDefinition]:
    return [saved_query_checks(model, m) for m in metrics]

