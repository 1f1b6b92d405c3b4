"""One-line metric questions from a notebook, with an HTML answer and a chart.

    from semantic.notebook import ask
    ask("bugs_per_test", by="month", start="this year")           # renders as a table
    ask("bug_count", by="feature", where={"severity": "critical"}).plot()

The warehouse is ``$TESTIO_WAREHOUSE_PATH`` (default ``data/testio.duckdb``) unless given.
Charts need matplotlib (the optional extra ``charts``): a line per metric over a time
dimension, bars for categories.

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
from semantic.model.spec import GRANULARITIES
from semantic.plan.arguments import names, shown

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

    ``metrics`` and ``by`` take a name, comma-separated names or a list. Any keyword of
    ``OPTIONS`` goes to ``query_metrics``; any other is an error that says what to write.
    """
    from semantic import query_metrics

    for option in options:
        if option not in OPTIONS:
            hint = f"; use {RENAMED[option]}=" if option in RENAMED else did_you_mean(option, OPTIONS)
            raise InvalidArgumentError(option, f"ask() takes no argument {option!r}{hint} "
                                               f"(ask also takes {', '.join(OPTIONS)})")
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

    def plot(self, metrics: str | Sequence[str] | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the answer (or some of its metrics): lines over a time dimension, bars otherwise.

        Returns the matplotlib Axes; other keywords go to matplotlib.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise SemanticError(
                "charts need matplotlib, which is not installed: pip install 'testio-warehouse[charts]'"
            ) from None
        frame, dims = self.result.df, self.dimensions
        metrics = list(names(metrics, "metrics")) or self.metrics or [
            c for c in frame.columns if c not in dims and not c.endswith("_id")
        ]
        if ax is None:
            _, ax = plt.subplots(figsize=kwargs.pop("figsize", (8, 4)))
        if not dims:
            ax.bar(metrics, [frame[m].iloc[0] if len(frame) else 0 for m in metrics], **kwargs)
            return ax
        time = next((d for d in dims if d in GRANULARITIES), None)  # time dimensions are named after their grain
        other = [d for d in dims if d != time]
        labels = frame[dims].astype(object).where(frame[dims].notna(), "(none)").astype(str)
        if time is not None:
            # A test without an end has no place on a time axis.
            data = frame.assign(_x=labels[time], _series=labels[other].agg(" / ".join, axis=1) if other else "")
            data = data[frame[time].notna()]
            for metric in metrics:
                pivot = data.pivot_table(index="_x", columns="_series", values=metric, aggfunc="sum", dropna=False)
                for series in pivot.columns:
                    name = f"{metric} {series}".strip() if len(metrics) > 1 else (series or metric)
                    ax.plot(pivot.index, pivot[series], marker="o", label=name, **kwargs)
            ax.set_xlabel(time)
        else:
            categories = labels.agg(" / ".join, axis=1)
            width = 0.8 / len(metrics)
            positions = range(len(frame))
            for i, metric in enumerate(metrics):
                ax.barh([p + i * width for p in positions], frame[metric].astype(float), height=width,
                        label=metric, **kwargs)
            ax.set_yticks([p + width * (len(metrics) - 1) / 2 for p in positions], categories)
            ax.invert_yaxis()
            ax.set_ylabel(" / ".join(dims))
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend()
        else:
            ax.set_title(metrics[0])
        return ax
