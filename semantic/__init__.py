"""The TestIO semantic layer: YAML metrics compiled through sqlglot, answered from DuckDB.

Stages, each a folder importing only the ones before it: ``model`` (YAML into typed specs),
``plan`` (a query into a frozen plan), ``sql`` (the plan into SQL), ``answer`` (SQL run on
the warehouse), ``surfaces`` (the functions below and the CLI); ``semantic.notebook`` is the
notebook helper.

>>> from semantic import capabilities
>>> "bug_count" in capabilities()["metrics"]
True
"""

from semantic.answer.freshness import FreshnessSource, TableFreshness, WarehouseLoadLogFreshness
from semantic.answer.result import MetricResult
from semantic.config import Guardrails
from semantic.errors import (
    GuardrailError, InvalidArgumentError, InvalidFilterError, InvalidFilterValueError, InvalidQueryError,
    ModelValidationError, QueryTimeoutError, RoleConflictError, SemanticError, UnknownDimensionError,
    UnknownMetricError, UnknownSavedQueryError, UnsupportedDialectError, WarehouseUnavailableError,
)
from semantic.model.loader import load_model
from semantic.plan.dates import DateExpressionError, DateRange
from semantic.surfaces.query import capabilities, explain, query_metrics

__all__ = [
    "query_metrics", "explain", "capabilities", "load_model", "MetricResult", "Guardrails",
    "FreshnessSource", "TableFreshness", "WarehouseLoadLogFreshness", "DateRange",
    "SemanticError", "UnknownMetricError", "UnknownSavedQueryError", "UnknownDimensionError", "InvalidFilterError",
    "InvalidFilterValueError", "InvalidQueryError", "InvalidArgumentError", "RoleConflictError", "GuardrailError",
    "QueryTimeoutError", "WarehouseUnavailableError", "ModelValidationError", "UnsupportedDialectError",
    "DateExpressionError",
]
