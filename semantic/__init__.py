"""The TestIO semantic layer: YAML metrics compiled through sqlglot, answered from DuckDB.

>>> from semantic import capabilities
>>> "bug_count" in capabilities()["metrics"]
True
"""

from semantic.api import capabilities, explain, query_metrics
from semantic.config import Guardrails
from semantic.dates import DateExpressionError, DateRange
from semantic.errors import (
    GuardrailError, InvalidFilterError, InvalidQueryError, ModelValidationError, QueryTimeoutError,
    SemanticError, UnknownDimensionError, UnknownMetricError, UnsupportedDialectError,
    WarehouseUnavailableError,
)
from semantic.freshness import FreshnessSource, TableFreshness, WarehouseLoadLogFreshness
from semantic.loader import load_model
from semantic.result import MetricResult

__all__ = [
    "query_metrics", "explain", "capabilities", "load_model", "MetricResult", "Guardrails",
    "FreshnessSource", "TableFreshness", "WarehouseLoadLogFreshness", "DateRange",
    "SemanticError", "UnknownMetricError", "UnknownDimensionError", "InvalidFilterError",
    "InvalidQueryError", "GuardrailError", "QueryTimeoutError", "WarehouseUnavailableError",
    "ModelValidationError", "UnsupportedDialectError", "DateExpressionError",
]
