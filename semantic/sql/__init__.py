"""Stage 3, the SQL: a ``QueryPlan`` translated into a sqlglot tree and rendered per dialect.

Plain functions over (model, plan), built with sqlglot's builders only; ``compiler`` is the
entry (plan, render, cache). Imports only :mod:`semantic.model` and :mod:`semantic.plan`.
"""
