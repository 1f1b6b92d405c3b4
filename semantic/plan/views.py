"""How a metric source reads a dimension: whether it can, the key on its aliases, the joins.

>>> from semantic.model.loader import load_model
>>> m = load_model()
>>> view = dimension_view(m, m.dimensions["product"], "bugs")
>>> view.key.sql(), [j.target for j in view.path]
('tests.product_id', ['tests'])
"""

from __future__ import annotations

import functools

from sqlglot import exp

from semantic.model.loader import find_path
from semantic.model.spec import Dimension, Join, Model
from semantic.plan.query_plan import DimensionView


def qualify(expression: exp.Expression, base: str, alias_map: dict[str, str] | None = None) -> exp.Expression:
    """A copy of an expression with every column on its model's alias (``base`` for bare ones).

    >>> qualify(exp.column("severity"), "bugs").sql()
    'bugs.severity'
    """
    out = expression.copy()
    for col in out.find_all(exp.Column):
        table = col.table or base
        col.set("table", exp.to_identifier((alias_map or {}).get(table, table)))
    return out


def reaches(model: Model, dim: Dimension, source: str) -> bool:
    """Whether a metric source can evaluate a dimension."""
    if any(name == source for name, _ in dim.overrides):
        return True
    return find_path(model.models, source, dim.model) is not None


def join_path(model: Model, source: str, base: str, table: str) -> tuple[Join, ...]:
    """Joins from a source to ``base`` (a dimension's model), then on to ``table`` (a model its key reads)."""
    first = find_path(model.models, source, base) or ()
    return first + ((find_path(model.models, base, table) or ()) if table != base else ())


def dimension_view(model: Model, dim: Dimension, source: str, home: bool = False) -> DimensionView:
    """The key of a dimension from a source: the source's override, or (``home``) the dimension's own key.

    A view depends on the model alone, so each is built once per model; nothing modifies it
    (the renderer copies a key before putting it in a tree)."""
    return _view(model, dim.name, source, home)


@functools.lru_cache(maxsize=4096)
def _view(model: Model, dimension: str, source: str, home: bool) -> DimensionView:
    dim = model.dimensions[dimension]
    override = None if home else next((e for s, e in dim.overrides if s == source), None)
    base, key = (source, override) if override is not None else (dim.model, dim.key)
    table = key.table if isinstance(key, exp.Column) and key.table else base
    return DimensionView(dim.name, qualify(key, base), join_path(model, source, base, table))


def reads_own_column(dim: Dimension, source: str) -> bool:
    """Whether a source reads ``dim`` from a column of its own (``bugs.feature_id``, the bug's
    own feature) instead of from its test's members. The bridge that defines the dimension
    (``test_features``) reads its own row of those members: not a column of its own.

    >>> from semantic.model.loader import load_model
    >>> m = load_model()
    >>> reads_own_column(m.dimensions["feature"], "bugs"), reads_own_column(m.dimensions["feature"], "test_features")
    (True, False)
    """
    is_bridge = isinstance(dim.key, exp.Column) and dim.key.table == source
    return not is_bridge and any(s == source for s, _ in dim.overrides)


def filter_views(model: Model, dim: Dimension, source: str) -> list[DimensionView]:
    """The keys a filter on ``dim`` must hold on for a source's rows.

    A source with a column of its own for the dimension (``bugs.feature_id``) is filtered on
    that column instead of on its test's members; the bridge that defines the dimension
    (``test_features``) is filtered on its own row and keeps the test rule (any member of
    its test matches)."""
    home = dimension_view(model, dim, source, home=True)
    if not any(s == source for s, _ in dim.overrides):
        return [home]
    own = dimension_view(model, dim, source)
    return [own] if reads_own_column(dim, source) else [home, own]
