"""What every ingestion asset shares: definition attributes and materialisation metadata."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import duckdb
from sqlglot import exp

from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import CallStats
from testio_assets.freshness_state import policy_metadata
from testio_assets.warehouse.schema import TABLES
from testio_assets.warehouse.sql import column, render

GROUP = "testio"
KINDS = {"duckdb", "python"}
OWNERS = ["team:data-platform"]
PREVIEW_ROWS = 5


def column_schema(table_name: str) -> dg.TableSchema:
    """The contract's columns, types, descriptions, nullability and primary key."""
    table = TABLES[table_name]
    single_key = table.primary_key if len(table.primary_key) == 1 else ()
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                constraints=dg.TableColumnConstraints(
                    nullable=c.nullable, unique=c.name in single_key
                ),
            )
            for c in table.columns
        ],
        constraints=dg.TableConstraints(
            other=[f"primary key ({', '.join(table.primary_key)})"]
        ),
    )


def asset_spec_kwargs(table_name: str) -> dict[str, Any]:
    """Definition-time attributes of the asset that writes ``table_name``."""
    return {
        "group_name": GROUP,
        "kinds": KINDS,
        "owners": OWNERS,
        "description": TABLES[table_name].description,
        "metadata": {
            "dagster/table_name": table_name,
            "dagster/column_schema": column_schema(table_name),
        },
    }


def _record_value(value: Any) -> str | int | float | bool | None:
    """A warehouse value as a table record holds it: numbers and booleans as they are, NaN as
    None, anything else (timestamps, lists, decimals) as its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def table_preview(
    con: duckdb.DuckDBPyConnection,
    relation: exp.Table,
    schema: dg.TableSchema,
    *,
    order_by: Sequence[str] = (),
    rows: int = PREVIEW_ROWS,
) -> dg.TableMetadataValue:
    """The first ``rows`` rows of a table (by ``order_by``, else as stored) as Dagster table
    metadata: the UI shows it as a table with the schema's columns."""
    columns = [c.name for c in schema.columns]
    first_rows = exp.select(*(column(c) for c in columns)).from_(relation).limit(int(rows))
    if order_by:  # an empty ORDER BY would be rendered as a bare keyword
        first_rows = first_rows.order_by(*(column(k) for k in order_by))
    fetched = con.execute(render(first_rows)).fetchall()
    records = [dg.TableRecord({c: _record_value(v) for c, v in zip(columns, row)}) for row in fetched]
    return dg.MetadataValue.table(records=records, schema=schema)


def table_metadata(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    row_count: int,
    *,
    api: TestIOApiResource | None = None,
    stats: CallStats | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Materialisation metadata: row count, preview, API calls and source (never the token)."""
    metadata: dict[str, Any] = {
        "dagster/table_name": table_name,
        "dagster/row_count": row_count,
        "preview": table_preview(
            con, TABLES[table_name].relation(), column_schema(table_name),
            order_by=TABLES[table_name].primary_key,
        ),
    }
    if stats is not None:
        metadata.update(stats.as_metadata())
    if api is not None:
        metadata["source"] = api.source_description()
    metadata.update(policy_metadata(table_name))  # what freshness readers take as the deployed policy
    metadata.update(extra or {})
    return metadata
