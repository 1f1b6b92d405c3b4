"""Helpers for the ingestion tests on a real PostgreSQL: the same assets and checks as on
DuckDB, with the warehouse resource pointed at a database of the session's server."""

from __future__ import annotations

import psycopg2

from ingestion_support import DATA_TABLES
from testio_assets.warehouse.schema import TABLES


def postgres_rows(url: str, tables=DATA_TABLES) -> dict[str, list[tuple]]:
    """Every table's rows, sorted by primary key (None for a table that does not exist)."""
    con = psycopg2.connect(url, options="-c TimeZone=UTC")
    try:
        rows = {}
        with con.cursor() as cur:
            for name in tables:
                cur.execute("SELECT to_regclass(%s)", [name])
                if cur.fetchone()[0] is None:
                    rows[name] = None
                    continue
                cur.execute(f"SELECT * FROM {name} ORDER BY {', '.join(TABLES[name].primary_key)}")
                rows[name] = cur.fetchall()
        return rows
    finally:
        con.close()


def postgres_loads(url: str) -> dict[str, tuple]:
    """``_table_loads``: table name -> (loaded_at, run_id, row_count)."""
    con = psycopg2.connect(url, options="-c TimeZone=UTC")
    try:
        with con.cursor() as cur:
            cur.execute("SELECT table_name, loaded_at, run_id, row_count FROM _table_loads")
            return {name: rest for name, *rest in cur.fetchall()}
    finally:
        con.close()
