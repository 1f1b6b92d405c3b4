"""Charts of an answer that a person can read (``Answer.plot()`` in :mod:`semantic.notebook`).

- **Categories** (no time dimension): horizontal bars of the top ``top`` groups (default 15)
  by the first metric drawn. The rest become one ``other (N more)`` bar when every metric
  drawn is additive over the answer's dimensions (its groups add up to its total:
  ``metadata["additive_metrics"]``) and the answer holds all its rows; otherwise the title
  says the chart is cut, and why the rest cannot be summed (a ratio, a distinct count across
  a many-to-many dimension).
- **Time**: periods sit at their first day on a date axis (a gap stays a gap) whose ticks
  matplotlib's ``AutoDateLocator`` and ``ConciseDateFormatter`` choose (at most eight, never
  overlapping). A partial period (still open, or cut by the date range:
  ``metadata["partial_periods"]``) is reached by a dashed segment and drawn hollow, and the
  legend says so. Series beyond the top ``top`` (a second dimension) are summed into
  ``other`` or cut, as for categories.
- **No dimension**: one bar per metric.

The returned Axes carries the note in its title; tests read the artists, not the pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from semantic.errors import SemanticError
from semantic.model.spec import GRANULARITIES
from semantic.plan.timegrain import label_start

NULL_LABEL = "(none)"
OTHER = "other"
DEFAULT_TOP = 15


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise SemanticError(
            "charts need matplotlib, which is not installed: pip install 'testio-warehouse[charts]'"
        ) from None
    return plt


def group_labels(frame: pd.DataFrame, dims: Sequence[str]) -> pd.Series:
    """One text per row naming its group: the dimension labels joined by " / ", NULL as (none);
    where two groups share a label (two products' "Login" features), their ids tell them apart.

    >>> group_labels(pd.DataFrame({"feature": ["Search", None], "month": ["2025-01", "2025-02"]}), ["feature", "month"]).tolist()
    ['Search / 2025-01', '(none) / 2025-02']
    >>> group_labels(pd.DataFrame({"feature": ["Login", "Login", "Cart"], "feature_id": [7, 9, 8]}), ["feature"]).tolist()
    ['Login [7]', 'Login [9]', 'Cart']
    """
    def text(column: str) -> pd.Series:
        return frame[column].astype(object).where(frame[column].notna(), NULL_LABEL).astype(str)

    def with_id(dim: str) -> pd.Series:
        label = text(dim)
        if f"{dim}_id" not in frame:
            return label
        ids = frame[f"{dim}_id"]
        members = pd.DataFrame({"label": label, "id": ids}).dropna().drop_duplicates()
        shared = label.isin(members.loc[members["label"].duplicated(), "label"]) & ids.notna()
        return label.where(~shared, label + " [" + text(f"{dim}_id") + "]")

    return pd.concat([with_id(d) for d in dims], axis=1).agg(" / ".join, axis=1)


def top_groups(groups: pd.Series, values: pd.Series, top: int) -> list[str]:
    """The ``top`` groups with the largest total of ``values`` (ties keep the answer's order)."""
    totals = values.astype(float).fillna(0).groupby(groups, sort=False).sum()
    return list(totals.sort_values(ascending=False, kind="stable").index[:top])


def cut_note(kept: int, total: int, what: str, ranked_by: str, summable: bool, reason: str) -> str:
    """What a chart that shows ``kept`` of ``total`` groups did with the rest.

    >>> cut_note(15, 184, "feature", "bug_count", True, "")
    "top 15 of 184 feature by bug_count; the other 169 summed as 'other'"
    >>> cut_note(15, 184, "feature", "bugs_per_test", False, "bugs_per_test cannot be summed")
    'top 15 of 184 feature by bugs_per_test; the other 169 are not shown (bugs_per_test cannot be summed)'
    """
    head = f"top {kept} of {total} {what} by {ranked_by}; the other {total - kept}"
    return f"{head} summed as '{OTHER}'" if summable else f"{head} are not shown ({reason})"


def _why_not_summable(metrics: Sequence[str], metadata: dict, rows: int, dims: Sequence[str]) -> str:
    """Empty when the rest of the groups can be summed into 'other', else why not."""
    total = metadata.get("total_rows", rows)
    if total is not None and total > rows:
        return f"the answer holds {rows} of its {total} rows: raise limit= to chart them all"
    additive = set(metadata.get("additive_metrics") or [])
    others = [m for m in metrics if m not in additive]
    if others:
        return (f"{', '.join(others)} cannot be summed over {' / '.join(dims)}: a ratio, or a count whose rows "
                f"belong to several groups")
    return ""


def plot_answer(df: pd.DataFrame, metadata: dict, dims: Sequence[str], metrics: Sequence[str], ax: Any = None,
                top: int = DEFAULT_TOP, **kwargs: Any) -> Any:
    """Draw an answer (see the module's docstring); returns the matplotlib Axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=kwargs.pop("figsize", (9, 4.5)))
    if not dims:
        ax.bar(list(metrics), [df[m].iloc[0] if len(df) else 0 for m in metrics], **kwargs)
        ax.set_title(", ".join(metrics))
        return ax
    time = next((d for d in dims if d in GRANULARITIES), None)  # time dimensions are named after their grain
    if time is None:
        return _bars(ax, df, metadata, list(dims), list(metrics), top, **kwargs)
    return _lines(ax, df, metadata, time, [d for d in dims if d != time], list(metrics), top, **kwargs)


def _bars(ax, df, metadata, dims, metrics, top, **kwargs):
    categories = group_labels(df, dims)
    kept = top_groups(categories, df[metrics[0]], top)
    shown = df[categories.isin(kept)].assign(_label=categories)
    shown = shown.set_index("_label").loc[kept].reset_index()
    note, summed = None, False
    total = max(metadata.get("total_rows") or 0, len(df))
    if len(kept) < total:  # fewer groups than the answer has, or than it would have without its limit
        reason = _why_not_summable(metrics, metadata, len(df), dims)
        summed = not reason
        note = cut_note(len(kept), total, " / ".join(dims), metrics[0], summed, reason)
        if summed:
            rest = df[~categories.isin(kept)]
            other = {m: rest[m].astype(float).sum() for m in metrics}
            shown = pd.concat([shown, pd.DataFrame([{"_label": f"{OTHER} ({len(rest)} more)", **other}])],
                              ignore_index=True)
    width = 0.8 / len(metrics)
    positions = range(len(shown))
    for i, metric in enumerate(metrics):
        bars = ax.barh([p + i * width for p in positions], shown[metric].astype(float), height=width,
                       label=metric, **kwargs)
        if summed:  # 'other' is no group of its own: drawn lighter
            bars[-1].set_hatch("//")
            bars[-1].set_alpha(0.5)
    ax.set_yticks([p + width * (len(metrics) - 1) / 2 for p in positions], shown["_label"])
    ax.invert_yaxis()
    ax.set_ylabel(" / ".join(dims))
    if len(metrics) > 1:
        ax.legend()
    ax.set_title(", ".join(metrics) + (f"\n{note}" if note else ""), fontsize="medium")
    return ax


def _lines(ax, df, metadata, time, other_dims, metrics, top, **kwargs):
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    data = df[df[time].notna()]  # a test without an end has no place on a time axis
    x = data[time].map(lambda label: label_start(time, label))
    partial = (metadata.get("partial_periods") or {}).get(time, {})
    series = group_labels(data, other_dims) if other_dims else pd.Series("", index=data.index)
    kept = top_groups(series, data[metrics[0]], top)
    note = None
    table = data.assign(_x=x, _series=series)
    if len(kept) < series.nunique():
        reason = _why_not_summable(metrics, metadata, len(df), other_dims + [time])
        note = cut_note(len(kept), series.nunique(), " / ".join(other_dims), metrics[0], not reason, reason)
        rest = table[~table["_series"].isin(kept)]
        table = table[table["_series"].isin(kept)]
        if not reason:
            summed = rest.groupby("_x", as_index=False)[metrics].sum(min_count=1).assign(_series=OTHER)
            summed[time] = rest.groupby("_x")[time].first().to_numpy()
            table = pd.concat([table, summed], ignore_index=True)
            kept = [*kept, OTHER]
    labels = dict(zip(table["_x"], table[time]))
    drew_partial = False
    for metric in metrics:
        pivot = table.pivot(index="_x", columns="_series", values=metric).astype(float).sort_index()
        is_partial = pd.Series([labels[t] in partial for t in pivot.index], index=pivot.index)
        near = is_partial | is_partial.shift(1, fill_value=False) | is_partial.shift(-1, fill_value=False)
        for name in kept:
            y = pivot[name]
            label = f"{metric} {name}".strip() if len(metrics) > 1 else (name or metric)
            dashed = ax.plot(pivot.index, y.where(near), linestyle="--", **kwargs)[0]
            ax.plot(pivot.index, y.where(~is_partial), marker="o", label=label, color=dashed.get_color(), **kwargs)
            if is_partial.any() and y[is_partial].notna().any():
                ax.plot(pivot.index[is_partial], y[is_partial], linestyle="none", marker="o",
                        markerfacecolor="white", color=dashed.get_color())
                drew_partial = True
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(time)
    handles, names = ax.get_legend_handles_labels()
    if drew_partial:
        why = sorted({reason.split(" (")[0] for reason in partial.values()})
        handles.append(Line2D([], [], linestyle="--", marker="o", markerfacecolor="white", color="grey"))
        names.append(f"partial {time} ({' / '.join(why)})")
    if len(handles) > 1:
        ax.legend(handles, names, fontsize="small")
    ax.set_title(", ".join(metrics) + (f"\n{note}" if note else ""), fontsize="medium")
    return ax
