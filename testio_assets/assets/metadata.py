"""What every ingestion asset shares: definition attributes, run config and metadata builders."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import duckdb
from pydantic import Field
from sqlglot import exp

from testio_assets.client.resource import TestIOApiResource
from testio_assets.client.stats import CallStats
from testio_assets.freshness_state import policy_metadata
from testio_assets.warehouse.guards import DEFAULT_MAX_SHRINK_SHARE, ShrinkGuard
from testio_assets.warehouse.schema import TABLES
from testio_assets.warehouse.sql import column, render

GROUP = "testio"
KINDS = {"duckdb", "python"}
OWNERS = ["team:data-platform"]
PREVIEW_ROWS = 5


class GuardConfig(dg.Config):
    """Run configuration of every asset that writes from the API: how much a load may shrink
    what is stored before the step refuses to write it (see ``warehouse.guards``)."""

    allow_shrink: bool = Field(
        default=False,
        description="Accept on purpose a load that drops stored products or tests, or shrinks "
        "a table by more than max_shrink_share (e.g. data really deleted upstream).",
    )
    max_shrink_share: float = Field(
        default=DEFAULT_MAX_SHRINK_SHARE,
        ge=0.0,
        le=1.0,
        description="Largest share of a table's rows (or of the rows being replaced) a load "
        "may remove without allow_shrink.",
    )

    def guard(self, op: str) -> ShrinkGuard:
        return ShrinkGuard(op, self.max_shrink_share, self.allow_shrink)


class RefreshConfig(GuardConfig):
    """Run configuration of the assets that refresh incrementally: tests (with test_features
    and test_platforms) and bugs.

    Incremental is the default, so scheduled and automated runs fetch only what can have
    changed; an asset whose table does not exist yet refreshes fully on its own. Set
    ``full_refresh: true`` to resync everything (tests that disappeared from the API are then
    dropped too, which an incremental walk cannot see).
    """

    full_refresh: bool = Field(
        default=False,
        description="Re-fetch everything and replace the tables, instead of fetching only "
        "new tests and the tests and bugs that can still change.",
    )


def refresh_mode(config: RefreshConfig, table_present: bool) -> str:
    """``full``, ``incremental``, or ``full (first load)`` when there is nothing to build on."""
    if config.full_refresh:
        return "full"
    return "incremental" if table_present else "full (first load)"


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
    first_rows = (
        exp.select(*(column(c) for c in columns))
        .from_(relation)
        .order_by(*(column(k) for k in order_by))
        .limit(int(rows))
    )
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
