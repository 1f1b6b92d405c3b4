"""The answer to a metric query: a DataFrame with its SQL, explanation, warnings, metadata.

>>> import pandas as pd
>>> r = MetricResult(pd.DataFrame({"bug_count": [3]}), "SELECT 3", "Counts bugs.", [], {})
>>> r.to_dict()["rows"]
[{'bug_count': 3}]
>>> json_rows(pd.DataFrame({"rate": [1 / 3, None], "day": pd.to_datetime(["2025-02-01", None])}))
[{'rate': 0.3333333333333333, 'day': '2025-02-01T00:00:00'}, {'rate': None, 'day': None}]
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from semantic.answer.freshness import data_age


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, date):  # datetime and pd.Timestamp too
        return value.isoformat()
    return value


def json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain JSON values, exactly: floats unrounded (``DataFrame.to_json`` keeps 10
    digits), numpy scalars as Python ones, NaN / NA / NaT as None, dates as ISO strings."""
    columns = [str(c) for c in df.columns]
    return [dict(zip(columns, map(_json_value, row))) for row in df.itertuples(index=False, name=None)]


@dataclass
class MetricResult:
    df: pd.DataFrame
    sql: str
    explanation: str
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        warn = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return f"<MetricResult {len(self.df)} rows x {len(self.df.columns)} columns{warn}>\n{self.df.to_string(max_rows=20)}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: rows, sql, explanation, warnings, metadata."""
        return {"rows": json_rows(self.df), "columns": list(self.df.columns), "sql": self.sql,
                "explanation": self.explanation, "warnings": list(self.warnings),
                "metadata": self.metadata}

    def _repr_html_(self) -> str:
        parts = [self.df.to_html(index=False, na_rep="NULL", max_rows=200)]
        for w in self.warnings:
            parts.append(f'<div style="color:#a15c00">&#9888; {html.escape(w)}</div>')
        ages = [html.escape(data_age(f)) for f in (self.metadata.get("freshness") or {}).values()]
        if ages:
            parts.append(f'<div style="color:#666;font-size:smaller">Data age: {"; ".join(ages)}</div>')
        meta = self.metadata
        if meta:
            rng = meta.get("date_range") or [None, None]
            parts.append(
                f'<div style="color:#666;font-size:smaller">{meta.get("total_rows")} rows in total; '
                f'date range [{rng[0] or "-inf"}, {rng[1] or "+inf"}); {meta.get("query_time_ms", 0):.1f} ms</div>')
        return "\n".join(parts)
