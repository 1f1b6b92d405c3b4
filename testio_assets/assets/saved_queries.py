"""Saved queries as Dagster assets: each saved query of the semantic model is the asset
``metrics/<name>`` materialising its answer as the warehouse table ``metrics.<name>``.

Dependencies are not declared by hand: the saved query is compiled when the definitions load,
and every warehouse table its SQL reads (:func:`semantic.sql.columns.tables_read`) is mapped to
the ingestion asset that writes it (``dagster/table_name``). So the lineage graph shows which
ingestion assets feed each metric, and changing the question changes the edges.

A materialisation resolves the saved query's dates against its own day (``as_of`` in the run
config, else today in UTC), answers it with ``query_metrics`` on the writer's connection, and
writes the answer and its row of ``metrics._saved_query_loads`` (the day, the range, the SQL,
the versions of the tables read) in one transaction through the warehouse writer. Before that
transaction commits, the new version is audited with the blocking checks of
:mod:`testio_assets.metric_checks`: a version that fails one is rolled back, so neither the
warehouse nor the read copy the writer then publishes ever holds it. Exports listed in the
YAML are written last, from the committed answer.
The metadata holds the column schema, row count, SQL, resolved range and a table preview.

(No ``from __future__ import annotations`` here: Dagster reads the run config's class from the
asset function's annotations.)
"""

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import sqlglot
from pydantic import Field

from semantic.answer.exports import exports_dir, write_export
from semantic.answer.materialised import table_of
from semantic.answer.result import MetricResult
from semantic.errors import SemanticError
from semantic.model.spec import Model
from semantic.plan.saved_queries import SavedQueryRequest, resolve_saved_query
from semantic.project import DEFAULT_WAREHOUSE, project_root
from testio_assets.assets.metadata import OWNERS, table_preview
from testio_assets.freshness_state import policy_metadata
from testio_assets.metric_checks import audit_metric
from testio_assets.metric_tables import (
    GROUP,
    MATERIALISED_ROW_LIMIT,
    MetricTable,
    answer,
    input_loads,
    metric_table,
)
from testio_assets.warehouse.resource import WRITER_POOL, WarehouseResource
from testio_assets.warehouse.schema import SAVED_QUERY_LOADS, create_table_sql
from testio_assets.warehouse.sql import insert_or_replace_sql

KINDS = {"duckdb", "sql"}
PREVIEW_ROWS = 10


class SavedQueryConfig(dg.Config):
    """Run configuration of a saved query's asset."""

    as_of: str | None = Field(
        default=None,
        description="The UTC day (YYYY-MM-DD) the saved query's dates resolve against ('this quarter' "
        "is that day's quarter); default: the day of the run.",
    )


def table_asset_keys(assets: Sequence[dg.AssetsDefinition]) -> dict[str, dg.AssetKey]:
    """The asset writing each warehouse table (by its ``dagster/table_name``)."""
    keys = {}
    for assets_def in assets:
        for spec in assets_def.specs:
            table = spec.metadata.get("dagster/table_name")
            if table:
                keys[table] = spec.key
    return keys


def _dependencies(metric: MetricTable, keys: Mapping[str, dg.AssetKey]) -> list[dg.AssetKey]:
    unknown = [t for t in metric.reads if t not in keys]
    if unknown:
        where = metric.saved_query.location
        raise dg.DagsterInvalidDefinitionError(
            f"saved query {metric.name} (at {where}) reads {', '.join(unknown)}, which no asset of this code "
            f"location writes; the tables assets write: {', '.join(sorted(keys))}")
    return [keys[t] for t in metric.reads]


def _log_statements(metric: MetricTable, request: SavedQueryRequest, result: MetricResult,
                    loads: Mapping[str, str | None], run_id: str) -> list[tuple[str, list]]:
    """Create the load log if needed and record this answer in it."""
    values = {
        "saved_query": metric.name, "as_of": request.today, "date_start": request.date_range.start,
        "date_end": request.date_range.end, "dates": request.describe_dates(), "row_count": len(result.df),
        "sql": result.sql, "inputs_loaded_at": json.dumps(loads),
        "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None), "run_id": run_id,
    }
    columns = SAVED_QUERY_LOADS.column_names
    insert = insert_or_replace_sql(SAVED_QUERY_LOADS.relation(), columns, SAVED_QUERY_LOADS.primary_key)
    return [(create_table_sql(SAVED_QUERY_LOADS), []), (insert, [values[c] for c in columns])]


def _as_of(config: SavedQueryConfig) -> date | None:
    if config.as_of is None:
        return None
    try:
        return date.fromisoformat(config.as_of)
    except ValueError:
        raise dg.Failure(description=f"as_of {config.as_of!r} is not a day: write it as YYYY-MM-DD") from None


def _pretty(sql: str) -> str:
    return sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0]


def _export(metric: MetricTable, result: MetricResult, warehouse: WarehouseResource) -> dict[str, Any]:
    # A server has no folder of its own: its exports go where the default DuckDB file's would.
    beside = warehouse.path if warehouse.engine == "duckdb" else (project_root() or Path.cwd()) / DEFAULT_WAREHOUSE
    folder = exports_dir(beside)
    written = {}
    for export in metric.saved_query.exports:
        path = write_export(result.df, export.format, Path(folder) / export.path)
        written[f"export/{export.name}"] = dg.MetadataValue.path(str(path))
    return written


def saved_query_asset(model: Model, metric: MetricTable, deps: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    sq = metric.saved_query

    @dg.asset(
        key=metric.key,
        deps=deps,
        group_name=GROUP,
        kinds=KINDS,
        owners=OWNERS,
        description=sq.description,
        pool=WRITER_POOL,
        metadata={
            "dagster/table_name": table_of(sq.name),
            "dagster/column_schema": metric.column_schema,
            "saved_query": dg.MetadataValue.text(f"{sq.name} at {sq.location}"),
            "share_metrics": dg.MetadataValue.json(list(metric.shares)),
            "additive_metrics": dg.MetadataValue.json(list(metric.additive)),
        },
    )
    def materialise(context: dg.AssetExecutionContext, config: SavedQueryConfig,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
        request = resolve_saved_query(model, sq, _as_of(config))
        with warehouse.writer(context.run_id) as writer:
            con = writer.connection
            try:
                result = answer(model, sq, con, request.today)
            except SemanticError as exc:
                raise dg.Failure(description=f"saved query {sq.name} could not be answered: {exc}") from exc
            if result.metadata["total_rows"] > len(result.df):
                raise dg.Failure(description=(
                    f"saved query {sq.name} has {result.metadata['total_rows']:,} rows, more than a metric table "
                    f"holds ({MATERIALISED_ROW_LIMIT:,}); give it a limit or narrow it (at {sq.location})"))
            loads = input_loads(con, metric.reads)
            rows = writer.replace(metric.table, pa.Table.from_pandas(result.df, preserve_index=False),
                                  also=_log_statements(metric, request, result, loads, context.run_id),
                                  audit=lambda written: audit_metric(model, metric, written))
            preview = table_preview(con, metric.table.relation(), metric.column_schema, rows=PREVIEW_ROWS)
        exported = _export(metric, result, warehouse)
        rng = request.date_range
        context.log.info("%s: %d rows, %s", metric.table.qualified_name, rows, request.describe_dates())
        return dg.MaterializeResult(metadata={
            "dagster/table_name": table_of(sq.name),
            "dagster/row_count": rows,
            "preview": preview,
            "date_range": dg.MetadataValue.text(request.describe_dates()),
            "as_of": request.today.isoformat(),
            "date_start": rng.start.isoformat() if rng.start else "open",
            "date_end": rng.end.isoformat() if rng.end else "open",
            "sql": dg.MetadataValue.md(f"```sql\n{_pretty(result.sql)}\n```"),
            "tables_read": dg.MetadataValue.json(list(metric.reads)),
            "inputs_loaded_at": dg.MetadataValue.json(loads),
            "warnings": dg.MetadataValue.json(result.warnings),
            **policy_metadata(metric.key.to_user_string()),  # the deployed policy, for freshness readers
            **exported,
        })

    return materialise


def saved_query_assets(
    model: Model, upstream: Sequence[dg.AssetsDefinition], today: date | None = None
) -> tuple[list[dg.AssetsDefinition], list[MetricTable]]:
    """One asset per saved query of ``model``, depending on the ``upstream`` assets that write
    the tables it reads; and what each asset's checks need to know."""
    keys = table_asset_keys(upstream)
    for name, sq in model.saved_queries.items():
        if name in keys:  # checks and the publication audit know tables by their bare names
            raise dg.DagsterInvalidDefinitionError(
                f"saved query {name} (at {sq.location}) has the name of the table {name} that the asset "
                f"{keys[name].to_user_string()} writes; give the saved query another name")
    metrics = [metric_table(model, sq, today) for sq in model.saved_queries.values()]
    return [saved_query_asset(model, m, _dependencies(m, keys)) for m in metrics], metrics
