"""How old the data behind an answer is: a small interface and a default implementation.

The semantic layer never imports Dagster: a :class:`FreshnessSource` is injected (the
Dagster-backed one lives in ``testio_assets``). The default reads the warehouse's own load
log ``_table_loads`` and, knowing no policy, reports state ``unknown`` (or ``never_loaded``).

>>> import duckdb
>>> con = duckdb.connect()
>>> WarehouseLoadLogFreshness(con).table_freshness(["bugs"])["bugs"].state
'never_loaded'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

STATES = ("passing", "warning", "failed", "unknown", "never_loaded")


@dataclass(frozen=True)
class TableFreshness:
    """Freshness of one table at the time of an answer."""

    table: str
    last_loaded_at: datetime | None  # UTC
    age_seconds: float | None
    state: str  # one of STATES
    policy: str | None = None  # e.g. "warn after 1h, fail after 2h"
    source: str = ""  # how it was determined

    def to_dict(self) -> dict:
        return {"table": self.table,
                "last_loaded_at": self.last_loaded_at.isoformat() if self.last_loaded_at else None,
                "age_seconds": self.age_seconds, "state": self.state, "policy": self.policy,
                "source": self.source}


@runtime_checkable
class FreshnessSource(Protocol):
    """Anything that can tell the freshness of warehouse tables."""

    def table_freshness(self, tables: Sequence[str]) -> Mapping[str, TableFreshness]: ...


def format_age(seconds: float) -> str:
    """'3 h 12 min', '45 s', '2 d 1 h'.

    >>> format_age(11520)
    '3 h 12 min'
    """
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min"
    return f"{s} s"


def freshness_warning(f: TableFreshness) -> str | None:
    """The warning an answer carries for a stale or never-loaded table, else None."""
    if f.state == "never_loaded":
        return f"{f.table} has never been loaded: the answer may be empty or incomplete"
    if f.state in ("warning", "failed"):
        age = f"was last loaded {format_age(f.age_seconds)} ago" if f.age_seconds is not None else "is stale"
        policy = f"; its freshness policy is {f.policy}" if f.policy else ""
        return f"{f.table} {age} (freshness {f.state.upper()}){policy}"
    return None


class WarehouseLoadLogFreshness:
    """Reads ``_table_loads`` (table_name, loaded_at, run_id, row_count) over a connection."""

    def __init__(self, con, now=None):
        self.con = con
        self.now = now

    def table_freshness(self, tables: Sequence[str]) -> Mapping[str, TableFreshness]:
        now = self.now() if callable(self.now) else (self.now or datetime.now(timezone.utc))
        rows: dict[str, datetime | None] = {}
        try:
            for name, loaded_at in self.con.execute(
                "SELECT table_name, loaded_at FROM _table_loads WHERE table_name IN (SELECT UNNEST(?))",
                [list(tables)],
            ).fetchall():
                rows[name] = loaded_at
        except Exception:  # noqa: BLE001 - no load log: every table is never_loaded
            rows = {}
        out = {}
        for table in tables:
            loaded = rows.get(table)
            if loaded is None:
                out[table] = TableFreshness(table, None, None, "never_loaded", None, "warehouse _table_loads")
                continue
            loaded = loaded.replace(tzinfo=timezone.utc) if loaded.tzinfo is None else loaded
            age = max(0.0, (now - loaded).total_seconds())
            out[table] = TableFreshness(table, loaded, age, "unknown", None,
                                        "warehouse _table_loads (no policy known)")
        return out
