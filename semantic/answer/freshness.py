"""How old the data behind an answer is: a small interface and a default implementation.

The semantic layer never imports Dagster: a :class:`FreshnessSource` is injected (the
Dagster-backed one lives in ``testio_assets``). The default reads the warehouse's own load
log ``_table_loads``, where the pipeline records each write and the policy in force, and
computes the state from the age (``unknown`` without a recorded policy, ``never_loaded``).

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

from sqlglot import exp

STATES = ("passing", "warning", "failed", "unknown", "never_loaded")
LOAD_LOG = "_table_loads"


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
    """'3 h 12 min', '45 s', '2 d 1 h': the two largest units, a zero second one left out.

    >>> format_age(11520), format_age(3600), format_age(172800 + 59)
    ('3 h 12 min', '1 h', '2 d')
    """
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min"
    return f"{s} s"


def data_age(f: Mapping) -> str:
    """One table's age and state, from :meth:`TableFreshness.to_dict` (an answer's metadata).

    >>> data_age({"table": "bugs", "age_seconds": 11520.0, "state": "failed"})
    'bugs: 3 h 12 min old (failed)'
    """
    age = f.get("age_seconds")
    shown = "never loaded" if f.get("state") == "never_loaded" else (
        f"{format_age(age)} old" if age is not None else "age unknown")
    return f"{f['table']}: {shown} ({f['state']})"


def freshness_warning(f: TableFreshness) -> str | None:
    """The warning an answer carries for a stale or never-loaded table, else None."""
    if f.state == "never_loaded":
        return f"{f.table} has never been loaded: the answer may be empty or incomplete"
    if f.state in ("warning", "failed"):
        age = f"was last loaded {format_age(f.age_seconds)} ago" if f.age_seconds is not None else "is stale"
        policy = f"; its freshness policy is {f.policy}" if f.policy else ""
        return f"{f.table} {age} (freshness {f.state.upper()}){policy}"
    return None


def format_window(seconds: float) -> str:
    """A policy window the way the pipeline writes it: ``3600`` -> ``'1h'``, ``5400`` -> ``'90m'``.

    >>> format_window(3600), format_window(5400), format_window(86400), format_window(45)
    ('1h', '90m', '1d', '45s')
    """
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def state_under_policy(age_seconds: float, warn_after: float | None, fail_after: float | None) -> str:
    """``passing``, ``warning`` or ``failed`` for an age under a policy's windows in seconds
    (``unknown`` without a fail window).

    >>> [state_under_policy(a, 3600, 7200) for a in (10, 3600, 7200)]
    ['passing', 'warning', 'failed']
    """
    if fail_after is None:
        return "unknown"
    if age_seconds >= fail_after:
        return "failed"
    if warn_after is not None and age_seconds >= warn_after:
        return "warning"
    return "passing"


class WarehouseLoadLogFreshness:
    """Reads the warehouse's load log ``_table_loads``: when each table was written and the
    freshness policy in force then (``warn_after_seconds``, ``fail_after_seconds``), so an
    answer knows its data's age and state without Dagster. A log written without policy
    columns gives state ``unknown``; a table missing from it is ``never_loaded``."""

    def __init__(self, con, now=None):
        """``con``: a DuckDB connection or any engine's (:mod:`semantic.answer.engines`)."""
        self.con = con
        self.now = now

    def _load_log(self, tables: Sequence[str]) -> dict[str, dict]:
        if not tables:
            return {}
        # One query for every engine, rendered in the connection's dialect (semantic.answer.engines).
        query = exp.select("*").from_(LOAD_LOG).where(
            exp.column("table_name").isin(*(exp.Literal.string(t) for t in tables)))
        try:
            cursor = self.con.execute(query.sql(dialect=getattr(self.con, "dialect", "duckdb")))
        except Exception:  # noqa: BLE001 - no load log: every table is never_loaded
            return {}
        columns = [d[0] for d in cursor.description]
        return {row["table_name"]: row for row in (dict(zip(columns, r)) for r in cursor.fetchall())}

    def table_freshness(self, tables: Sequence[str]) -> Mapping[str, TableFreshness]:
        now = self.now() if callable(self.now) else (self.now or datetime.now(timezone.utc))
        log = self._load_log(tables)
        out = {}
        for table in tables:
            row = log.get(table)
            loaded = row.get("loaded_at") if row else None
            if loaded is None:
                out[table] = TableFreshness(table, None, None, "never_loaded", None, "warehouse _table_loads")
                continue
            loaded = loaded.replace(tzinfo=timezone.utc) if loaded.tzinfo is None else loaded
            age = max(0.0, (now - loaded).total_seconds())
            warn, fail = row.get("warn_after_seconds"), row.get("fail_after_seconds")
            if fail is None:
                out[table] = TableFreshness(table, loaded, age, "unknown", None,
                                            "warehouse _table_loads (no policy recorded)")
                continue
            policy = (f"warn after {format_window(warn)}, " if warn is not None else "") + f"fail after {format_window(fail)}"
            out[table] = TableFreshness(table, loaded, age, state_under_policy(age, warn, fail), policy,
                                        "warehouse _table_loads (computed from the policy recorded at load)")
        return out
