"""One-line metric questions from a notebook, with an HTML answer and a chart.

    from semantic.notebook import ask
    ask("bugs_per_test", by="month", start="this year")           # renders as a table
    ask("bug_count", by="feature", where={"severity": "critical"}).plot()
    ask("critical_bugs_by_feature_this_quarter")                  # a saved query, by name

The warehouse is found by the one rule of :mod:`semantic.project` unless given: ``warehouse=``,
else ``$TESTIO_WAREHOUSE_PATH``, else ``data/testio.duckdb`` in the project folder, whichever
folder the kernel started in. ``ask`` reads the project's ``.env`` first (variables already set
win). Charts need matplotlib (the optional extra ``charts``): lines over a time dimension with
partial periods dashed, bars of the top 15 categories otherwise
(:mod:`semantic.surfaces.charts`).

>>> ask("bug_count", dimensions="severity")
Traceback (most recent call last):
...
semantic.errors.InvalidArgumentError: ask() takes no argument 'dimensions'; use by= (ask also takes fill_missing, dialect, freshness, config, model)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from semantic.answer.freshness import data_age
from semantic.errors import InvalidArgumentError, InvalidFilterError, SemanticError, did_you_mean
from semantic.plan.arguments import names, shown
from semantic.project import load_project_env

__all__ = ["Answer", "ask", "query_metrics"]

# keywords ask() passes to query_metrics, and the names ask() gives query_metrics' own
OPTIONS = ("fill_missing", "dialect", "freshness", "config", "model")
RENAMED = {"dimensions": "by", "group_by": "by", "filters": "where", "start_date": "start", "end_date": "end"}


def __getattr__(name: str):  # re-export lazily: importing this module stays cheap
    if name == "query_metrics":
        from semantic import query_metrics

        return query_metrics
    raise AttributeError(name)


def ask(
    metrics: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    where: Mapping[str, Any] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    *,
    sort_by: str | None = None,
    sort_order: str = "desc",
    limit: int | None = None,
    warehouse: Any = None,
    today: date | None = None,
    **options: Any,
) -> Answer:
    """Answer a metric question; ``by`` names the dimensions, ``where`` the filters.

    ``metrics`` and ``by`` take a name, comma-separated names or a list; the name of a saved
    query alone asks that saved query (its dates resolve against ``today``). Any keyword of
    ``OPTIONS`` goes to ``query_metrics``; any other is an error that says what to write.
    """
    from semantic import query_metrics
    from semantic.surfaces.query import saved_query_names

    load_project_env()
    for option in options:
        if option not in OPTIONS:
            hint = f"; use {RENAMED[option]}=" if option in RENAMED else did_you_mean(option, OPTIONS)
            raise InvalidArgumentError(option, f"ask() takes no argument {option!r}{hint} "
                                               f"(ask also takes {', '.join(OPTIONS)})")
    if isinstance(metrics, str) and metrics.strip() in saved_query_names(options.get("model")):
        name = metrics.strip()
        asked = {"by": by, "where": where, "start": start, "end": end, "sort_by": sort_by, "limit": limit}
        conflicting = [k for k, v in asked.items() if v is not None] + (["sort_order"] if sort_order != "desc" else [])
        if conflicting:
            raise InvalidArgumentError(conflicting[0], f"{name!r} is a saved query, a whole question: ask({name!r}) "
                                                       f"takes no {', '.join(conflicting)}; ask its metrics with "
                                                       f"your changes instead")
        return Answer(query_metrics(saved_query=name, warehouse=warehouse, today=today, **options))
    if where is not None and not isinstance(where, Mapping):
        raise InvalidFilterError(f"where must be a mapping of dimension name to a value, a list of values, or None, "
                                 f"e.g. where={{'severity': 'critical'}}; not {shown(where)}")
    result = query_metrics(
        names(metrics, "metrics"), names(by, "by"), where, start, end,
        sort_by=sort_by, sort_order=sort_order, limit=limit, warehouse=warehouse, today=today, **options,
    )
    return Answer(result)


class Answer:
    """A query result for notebooks: ``.df``, ``.sql``, ... of the result, an HTML view and ``.plot()``."""

    def __init__(self, result: Any):
        self.result = result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)

    def __repr__(self) -> str:
        return f"{self.result.df.to_string(index=False)}\n{self._notes_text()}"

    @property
    def dimensions(self) -> list[str]:
        columns = set(self.result.df.columns)
        return [d for d in self.result.metadata.get("dimensions_used", []) if d in columns]

    @property
    def metrics(self) -> list[str]:
        return list(self.result.metadata.get("metrics_used", []))

    def _notes_text(self) -> str:
        notes = [f"warning: {w}" for w in self.result.warnings]
        ages = [data_age(fresh) for fresh in (self.result.metadata.get("freshness") or {}).values()]
        if ages:
            notes.append("data age: " + "; ".join(ages))
        return "\n".join(notes)

    def _repr_html_(self) -> str:
        """The result's table with its warnings and data age."""
        return self.result._repr_html_()

    def plot(self, metrics: str | Sequence[str] | None = None, ax: Any = None, *, top: int = 15,
             **kwargs: Any) -> Any:
        """Draw the answer (or some of its metrics): lines over a time dimension, with partial
        periods dashed; else bars of the ``top`` groups by the first metric, the rest summed as
        'other' where the metrics are additive, else said to be cut. Returns the matplotlib Axes;
        other keywords go to matplotlib."""
        from semantic.surfaces.charts import plot_answer

        frame, dims = self.result.df, self.dimensions
        metrics = list(names(metrics, "metrics")) or self.metrics or [
            c for c in frame.columns if c not in dims and not c.endswith("_id")
        ]
        return plot_answer(frame, self.result.metadata, dims, metrics, ax=ax, top=top, **kwargs)
