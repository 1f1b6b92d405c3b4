"""The answer to a metric query: a DataFrame with its SQL, explanation, warnings, metadata.

>>> import pandas as pd
>>> r = MetricResult(pd.DataFrame({"bug_count": [3]}), "SELECT 3", "Counts bugs.", [], {})
>>> r.to_dict()["rows"]
[{'bug_count': 3}]
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from semantic.answer.freshness import data_age


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
        rows = json.loads(self.df.to_json(orient="records", date_format="iso"))
        return {"rows": rows, "columns": list(self.df.columns), "sql": self.sql,
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
