"""Charts a person can read (Answer.plot with the Agg backend): the top groups and 'other' or a
cut note, readable time ticks, and partial periods marked in the chart, the DataFrame and the
warnings. The artists and texts are checked, not the pixels."""

from __future__ import annotations

from datetime import date, datetime

import matplotlib
import pytest

from semantic.notebook import ask
from warehouse_fixtures import build_warehouse

matplotlib.use("Agg")

TODAY = date(2025, 12, 15)
FEATURES = 20


def _rows() -> dict[str, list[dict]]:
    """40 tests ending one a month from 2023-01 (the first four months twice) to 2025-12, test i
    in feature i % 20 with i % 20 + 1 bugs: feature k has 2 tests and 2 * (k + 1) bugs."""
    tests, test_features, bugs = [], [], []
    for i in range(40):
        year, month = divmod(i % 36, 12)
        tests.append({"test_id": i + 1, "product_id": 1, "status": "locked",
                      "end_at": datetime(2023 + year, month + 1, 10)})
        feature = 100 + i % FEATURES
        test_features.append({"test_feature_id": 1000 + i, "test_id": i + 1, "feature_id": feature, "title": "x"})
        bugs += [{"bug_id": 10_000 + 100 * i + j, "test_id": i + 1, "test_feature_id": 1000 + i,
                  "feature_id": feature, "severity": "low", "status": "accepted", "author_name": "tina"}
                 for j in range(i % FEATURES + 1)]
    return {"products": [{"product_id": 1, "name": "Shop"}],
            "features": [{"feature_id": 100 + k, "product_id": 1, "title": f"F{k:02d}"} for k in range(FEATURES)],
            "tests": tests, "test_features": test_features, "bugs": bugs}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("charts") / "warehouse.duckdb"
    build_warehouse(path, **_rows())
    return str(path)


def _ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_categories_show_the_top_groups_and_the_rest_summed_as_other(warehouse):
    answer = ask("bug_count", by="feature", warehouse=warehouse, today=TODAY)
    ax = answer.plot(top=5)
    assert _ticks(ax) == ["F19", "F18", "F17", "F16", "F15", "other (15 more)"]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths[:5] == [40, 38, 36, 34, 32]
    assert widths[5] == answer.df["bug_count"].sum() - sum(widths[:5])  # the groups add up to the total
    assert ax.patches[5].get_hatch() == "//"
    assert "top 5 of 20 feature by bug_count; the other 15 summed as 'other'" in ax.get_title()


@pytest.mark.parametrize("metric", ["bugs_per_test", "test_count"])  # a ratio; tests counted once per feature
def test_what_cannot_be_summed_is_said_to_be_cut(warehouse, metric):
    ax = ask(metric, by="feature", warehouse=warehouse, today=TODAY).plot(top=5)
    assert len(ax.patches) == 5 and not any(t.startswith("other") for t in _ticks(ax))
    assert f"top 5 of 20 feature by {metric}; the other 15 are not shown ({metric} cannot be summed" \
        in ax.get_title()


def test_an_answer_cut_by_its_limit_is_not_summed(warehouse):
    ax = ask("bug_count", by="feature", limit=8, warehouse=warehouse, today=TODAY).plot(top=5)
    assert len(ax.patches) == 5
    assert "top 5 of 20 feature by bug_count; the other 15 are not shown (the answer holds 8 of its 20 rows" \
        in ax.get_title()


def test_fewer_groups_than_top_draws_them_all_without_a_note(warehouse):
    ax = ask("bug_count", by="feature", warehouse=warehouse, today=TODAY).plot(top=25)
    assert len(ax.patches) == FEATURES and ax.get_title() == "bug_count"


def test_month_ticks_are_few_and_never_overlap(warehouse):
    ax = ask("test_count", by="month", warehouse=warehouse, today=TODAY).plot()
    ax.figure.canvas.draw()
    shown = [t for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(shown) <= 8
    boxes = [t.get_window_extent() for t in shown]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_open_period_is_partial_in_the_dataframe_the_warnings_and_the_chart(warehouse):
    answer = ask("test_count", by="month", warehouse=warehouse, today=TODAY)
    assert answer.df.attrs["partial_periods"] == {"month": {"2025-12": "still open (data through 2025-12-15)"}}
    assert answer.metadata["partial_periods"] == answer.df.attrs["partial_periods"]
    assert any(w.startswith("partial month: 2025-12 still open") for w in answer.warnings)
    ax = answer.plot()
    december = matplotlib.dates.date2num(datetime(2025, 12, 1))
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert all(december not in _drawn_x(line) for line in solid)  # the open month is not on the solid line
    assert any(december in _drawn_x(line) for line in dashed)
    hollow = [line for line in ax.lines if line.get_markerfacecolor() == "white"]
    assert [list(_drawn_x(line)) for line in hollow] == [[december]]
    assert "partial month (still open)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_period_cut_by_the_date_range_is_partial_too(warehouse):
    answer = ask("test_count", by="month", start="2023-01-05", end="2025-11-30", warehouse=warehouse, today=TODAY)
    assert answer.df.attrs["partial_periods"] == {"month": {"2023-01": "cut by the date range (from 2023-01-05)"}}
    whole = ask("test_count", by="month", start="2023-01-01", end="2025-11-30", warehouse=warehouse, today=TODAY)
    assert whole.df.attrs["partial_periods"] == {} and not any("partial" in w for w in whole.warnings)


def test_series_over_time_keep_the_top_and_sum_the_rest(warehouse):
    ax = ask("bug_count", by="month, feature", warehouse=warehouse, today=TODAY).plot(top=3)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["F19", "F18", "F17", "other", "partial month (still open)"]
    assert "top 3 of 20 feature by bug_count; the other 17 summed as 'other'" in ax.get_title()


def _drawn_x(line):
    """The x positions where a line draws a point (NaN y is a gap)."""
    import numpy as np

    xy = line.get_xydata()  # in the axis' units: days, for dates
    return xy[~np.isnan(xy[:, 1]), 0]


def test_a_chart_of_an_answer_cut_by_its_limit_says_so_even_when_all_its_rows_are_drawn(warehouse):
    ax = ask("bug_count", by="feature", limit=8, warehouse=warehouse, today=TODAY).plot()
    assert len(ax.patches) == 8
    assert "top 8 of 20 feature by bug_count; the other 12 are not shown (the answer holds 8 of its 20 rows" \
        in ax.get_title()
