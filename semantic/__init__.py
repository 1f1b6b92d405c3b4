"""The TestIO semantic layer: YAML metrics compiled through sqlglot, answered from DuckDB.

>>> from semantic import capabilities
>>> "bug_count" in capabilities()["metrics"]
True
"""

from semantic.surfaces.query import capabilities, explain, query_metrics
from semantic.config import Guardrails
from semantic.plan.dates import DateExpressionError, DateRange
from semantic.errors import (
    GuardrailError, InvalidFilterError, InvalidQueryError, ModelValidationError, QueryTimeoutError,
    SemanticError, UnknownDimensionError, UnknownMetricError, UnsupportedDialectError,
    WarehouseUnavailableError,
)
from semantic.answer.freshness import FreshnessSource, TableFreshness, WarehouseLoadLogFreshness
from semantic.model.loader import load_model
from semantic.answer.result import MetricResult

__all__ = [
    "query_metrics", "explain", "capabilities", "load_model", "MetricResult", "Guardrails",
    "FreshnessSource", "TableFreshness", "WarehouseLoadLogFreshness", "DateRange",
    "SemanticError", "UnknownMetricError", "UnknownDimensionError", "InvalidFilterError",
    "InvalidQueryError", "GuardrailError", "QueryTimeoutError", "WarehouseUnavailableError",
    "ModelValidationError", "UnsupportedDialectError", "DateExpressionError",
]
