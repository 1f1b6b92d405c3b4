"""Arrow schemas of the warehouse tables, derived from ``schema.py``.

Normalised data travels as Arrow tables whose columns and types are exactly the contract's,
so the writer hands DuckDB whole columns (no row-by-row inserts) and a type mismatch fails
in Python, before any warehouse table is touched.

>>> arrow_schema(TABLES["products"]).field("section_ids").type
ListType(list<item: int64>)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from testio_assets.warehouse.schema import TABLES, Table

_ARROW_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT[]": pa.list_(pa.int64()),
    "VARCHAR[]": pa.list_(pa.string()),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in table.columns]
    )


def arrow_table(table_name: str, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Build ``table_name``'s Arrow table from column lists; every contract column is required."""
    table = TABLES[table_name]
    missing = set(table.column_names) - set(columns)
    extra = set(columns) - set(table.column_names)
    if missing or extra:
        raise KeyError(
            f"columns for {table_name} do not match the contract: "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    schema = arrow_schema(table)
    return pa.table([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)
