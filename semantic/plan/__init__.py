"""Stage 2, the plan: a query resolved against the model into a frozen ``QueryPlan``.

Every decision about a query is taken here (which sources, which joins, when to de-duplicate,
which time dimension bounds the dates, which pieces give the rows); ``semantic.sql`` only
translates a plan. Also the date grammar (``dates``) and time grains (``timegrain``).
Imports only :mod:`semantic.model` (and the top-level ``errors``).
"""
