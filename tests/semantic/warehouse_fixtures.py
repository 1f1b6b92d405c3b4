"""Build small DuckDB warehouses for semantic-layer tests from lists of dicts.

Tables are created from ``testio_assets.warehouse.schema`` (the single source of truth);
each row is a dict keyed by schema column names, missing columns become NULL.

>>> import duckdb
>>> con = duckdb.connect()
>>> build_warehouse(con, tests=[{"test_id": 1, "status": "locked"}])  # doctest: +ELLIPSIS
<...DuckDBPyConnection...>
>>> con.execute("select count(*) from tests").fetchone()
(1,)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import duckdb
import pandas as pd

from testio_assets.warehouse.schema import TABLES, create_table_sql

_PANDAS_TYPES = {"BIGINT": "Int64", "BOOLEAN": "boolean", "VARCHAR": "object", "TIMESTAMP": "datetime64[us]"}


def _frame(table_name: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    table = TABLES[table_name]
    unknown = {k for row in rows for k in row} - set(table.column_names)
    if unknown:
        raise KeyError(f"unknown columns for {table_name}: {sorted(unknown)}")
    data = {}
    for col in table.columns:
        values = [row.get(col.name) for row in rows]
        if col.type == "TIMESTAMP":
            values = [pd.Timestamp(v) if v is not None else None for v in values]
        data[col.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=list(table.column_names))


def build_warehouse(
    con_or_path: duckdb.DuckDBPyConnection | str | os.PathLike[str],
    products: Sequence[Mapping[str, Any]] = (),
    features: Sequence[Mapping[str, Any]] = (),
    tests: Sequence[Mapping[str, Any]] = (),
    test_features: Sequence[Mapping[str, Any]] = (),
    test_platforms: Sequence[Mapping[str, Any]] = (),
    bugs: Sequence[Mapping[str, Any]] = (),
    users: Sequence[Mapping[str, Any]] = (),
    table_loads: Sequence[Mapping[str, Any]] | None = None,
) -> duckdb.DuckDBPyConnection | None:
    """Create every warehouse table and insert the given rows (set-based, one INSERT per table).

    Given a connection, returns it (still open). Given a path, writes the file and closes it,
    returning None. ``table_loads`` rows go to ``_table_loads``; when None, every data table
    gets a row stamped now (UTC) so freshness reads "unknown" rather than "never_loaded".
    """
    own = not isinstance(con_or_path, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(con_or_path)) if own else con_or_path
    rows_by_table = {
        "products": products,
        "features": features,
        "tests": tests,
        "test_features": test_features,
        "test_platforms": test_platforms,
        "bugs": bugs,
        "users": users,
    }
    if table_loads is None:
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        table_loads = [
            {"table_name": name, "loaded_at": now, "row_count": len(rows)}
            for name, rows in rows_by_table.items()
        ]
    rows_by_table["_table_loads"] = table_loads
    try:
        for name in TABLES:
            con.execute(create_table_sql(TABLES[name]))
        for name, rows in rows_by_table.items():
            if not rows:
                continue
            frame = _frame(name, rows)
            con.register("_fixture_rows", frame)
            casts = ", ".join(
                f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in TABLES[name].columns
            )
            verb = "INSERT OR REPLACE" if name == "_table_loads" else "INSERT"  # callable repeatedly
            con.execute(f'{verb} INTO "{name}" SELECT {casts} FROM _fixture_rows')
            con.unregister("_fixture_rows")
    finally:
        if own:
            con.close()
    return None if own else con


def golden_rows() -> dict[str, list[dict[str, Any]]]:
    """The golden dataset of issue 3: product 1001, feature 2001, locked tests 3001-3004, all
    created by alice; bob submitted test 3003 (issue 8: a submitter who is not the creator)."""
    products = [{"product_id": 1001, "name": "Golden product"}]
    features = [{"feature_id": 2001, "product_id": 1001, "title": "Checkout"}]
    tests = [
        {
            "test_id": 3000 + i,
            "product_id": 1001,
            "status": "locked",
            "testing_type": "coverage",
            "start_at": datetime(2025, 2, i),
            "end_at": datetime(2025, 2, i, 12),
            "created_by": "alice",
            "submitted_by": "bob" if i == 3 else "alice",
            "test_environment_id": 7,
            "test_environment_title": "Staging",
        }
        for i in range(1, 5)
    ]
    test_features = [
        {"test_feature_id": 5000 + i, "test_id": 3000 + i, "feature_id": 2001, "title": "Checkout"}
        for i in range(1, 5)
    ]
    spec = {
        3001: [("accepted", "critical"), ("accepted", "low"), ("auto_accepted", "low"),
               ("rejected", "high"), ("forwarded", "low")],
        3002: [("accepted", "critical"), ("accepted", "high"), ("auto_accepted", "low")],
        3003: [("rejected", "low"), ("rejected", "low")],
        3004: [],
    }
    bugs = []
    bug_id = 9001
    for test_id, items in spec.items():
        for status, severity in items:
            bugs.append({
                "bug_id": bug_id,
                "test_id": test_id,
                "test_feature_id": test_id + 2000,
                "feature_id": 2001,
                "severity": severity,
                "status": status,
                "api_status": "accepted" if status == "auto_accepted" else status,
                "auto_accepted": status == "auto_accepted",
                "rejection_reason": "not_reproducible" if status == "rejected" else None,
                "known": False,
                "author_name": f"tester{bug_id % 3}",
            })
            bug_id += 1
    return {"products": products, "features": features, "tests": tests,
            "test_features": test_features, "bugs": bugs}
