"""What an answer is made of: its columns with SQL types and descriptions, and the warehouse
tables its SQL reads.

The columns are those the renderer selects, in its order: per dimension its label (named after
it) and, for entity dimensions, ``<dimension>_id``; then one column per metric, typed as
``query_metrics`` types it (counts BIGINT, ratios DOUBLE).

>>> from semantic.model.loader import load_model
>>> from semantic.sql.compiler import compile_query
>>> m = load_model()
>>> c = compile_query(m, ["bugs_per_test"], ["product"])
>>> [(col.name, col.type) for col in answer_columns(m, c.plan)]
[('product', 'VARCHAR'), ('product_id', 'BIGINT'), ('bugs_per_test', 'DOUBLE')]
>>> tables_read(c.tree)
('bugs', 'products', 'tests')
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from semantic.model.spec import Model
from semantic.plan.query_plan import QueryPlan
from semantic.sql.metrics import SQL_TYPES, metric_dtype

_DTYPE_SQL = {"int64": "BIGINT", "float64": "DOUBLE"}


@dataclass(frozen=True)
class AnswerColumn:
    name: str
    type: str  # DuckDB SQL type
    description: str
    role: str  # "dimension", "dimension id" or "metric"


def answer_columns(model: Model, plan: QueryPlan) -> tuple[AnswerColumn, ...]:
    """The columns of the plan's answer, in order."""
    columns = []
    for name in plan.dimensions:
        dim = model.dimensions[name]
        label_type = "string" if dim.is_time else dim.label_type or dim.value_type
        columns.append(AnswerColumn(name, SQL_TYPES[label_type], dim.description, "dimension"))
        if dim.has_id:
            id_type = dim.value_type if isinstance(dim.id_expr, exp.Column) else "string"
            columns.append(AnswerColumn(f"{name}_id", SQL_TYPES[id_type], f"Id of the {name}: "
                                        f"{dim.id_expr.sql(dialect='duckdb')} over its key.", "dimension id"))
    for name in plan.metrics:
        metric = model.metrics[name]
        columns.append(AnswerColumn(name, _DTYPE_SQL[metric_dtype(model, metric)], metric.description, "metric"))
    return tuple(columns)


def tables_read(tree: exp.Expression) -> tuple[str, ...]:
    """The warehouse tables a query reads: every table its tree names, except its own CTEs."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return tuple(sorted({t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}))
