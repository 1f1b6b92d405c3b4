"""Typed errors of the semantic layer: every one subclasses :class:`SemanticError`.

Callers catch ``SemanticError`` to handle any bad input; nothing from sqlglot or DuckDB
escapes for a mistake in a query or a model file.

>>> issubclass(UnknownMetricError, SemanticError)
True
>>> str(UnknownMetricError("unknown metric 'bug_cnt'; did you mean 'bug_count'?"))
"unknown metric 'bug_cnt'; did you mean 'bug_count'?"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SemanticError(Exception):
    """Base of every error the semantic layer raises on purpose."""


class ModelValidationError(SemanticError):
    """A YAML model file is wrong; the message carries file and line."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        where = f" at {file}:{line}" if file and line else (f" in {file}" if file else "")
        super().__init__(message if not where or where in message else f"{message}{where}")
        self.problem = message


class UnknownMetricError(SemanticError):
    """A query names a metric the model does not define."""


class UnknownSavedQueryError(SemanticError):
    """A query names a saved query the model does not define."""


class UnknownDimensionError(SemanticError):
    """A query names a dimension the model does not define, or one a metric cannot reach."""


class InvalidFilterError(SemanticError):
    """A filter value is empty, of the wrong type, or names an unknown dimension."""


class InvalidFilterValueError(InvalidFilterError):
    """A filter value is not one of the values its dimension declares (``allowed_values``).

    ``suggestion`` is the closest declared value (or None) and ``allowed_values`` all of them."""

    def __init__(self, message: str, *, dimension: str, value, allowed_values: tuple, suggestion=None):
        super().__init__(message)
        self.dimension = dimension
        self.value = value
        self.allowed_values = allowed_values
        self.suggestion = suggestion


class InvalidQueryError(SemanticError):
    """Another part of the query is invalid (sort, limit, metric list, ...)."""


class InvalidArgumentError(InvalidQueryError):
    """An argument of the query API has the wrong type or an impossible value; ``argument`` names it."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(message)


class RoleConflictError(InvalidQueryError):
    """A ratio or derived metric whose inputs read one dimension through different roles
    (one counts a customer's submitted tests, another the tests they created) is grouped or
    filtered by that dimension: no single number per member exists."""


class UnknownNamesError(InvalidQueryError):
    """A query names several things the model does not know (metrics, dimensions, filters):
    every one is reported at once, each with its did-you-mean; ``errors`` holds them, typed.

    >>> print(UnknownNamesError([UnknownMetricError("unknown metric 'a'"), InvalidFilterError("unknown filter 'b'")]))
    2 unknown names in the query:
      unknown metric 'a'
      unknown filter 'b'
    """

    def __init__(self, errors: list[SemanticError]):
        self.errors = tuple(errors)
        super().__init__("\n  ".join([f"{len(errors)} unknown names in the query:", *map(str, errors)]))


class GuardrailError(SemanticError):
    """The query exceeds a configured guardrail (dimensions, rows)."""


class QueryTimeoutError(SemanticError):
    """The query ran longer than the configured timeout and was interrupted."""


class WarehouseUnavailableError(SemanticError):
    """The warehouse file cannot be opened; the subclasses say why."""


class WarehouseNotFoundError(WarehouseUnavailableError):
    """No warehouse file where one was expected (nothing has been loaded yet)."""


class WarehouseLockedError(WarehouseUnavailableError):
    """Another connection holds the file's lock; ``holder_pid`` names its process when known."""

    def __init__(self, message: str, *, holder_pid: int | None = None, holder: str | None = None):
        super().__init__(message)
        self.holder_pid = holder_pid
        self.holder = holder


class WarehouseCorruptError(WarehouseUnavailableError):
    """The file is not a readable DuckDB database: damaged, truncated, foreign or too new."""


class WarehouseURLError(WarehouseUnavailableError):
    """A warehouse URL this project cannot use: an unknown scheme, no server, no file."""


class WarehouseUnreachableError(WarehouseUnavailableError):
    """The warehouse's server refused or did not answer the connection (host, port, password)."""


class WarehouseServerUnreachableError(WarehouseUnreachableError):
    """The PostgreSQL server of the warehouse URL does not answer (down, wrong host or port)."""


class WarehouseLoginError(WarehouseUnreachableError):
    """The PostgreSQL server refused the user or password of the warehouse URL."""


class WarehouseDatabaseMissingError(WarehouseNotFoundError):
    """The PostgreSQL server answers, but the database the warehouse URL names does not exist."""


class WarehouseTableMissingError(WarehouseUnavailableError):
    """The warehouse lacks a table or column the model reads: the pipeline has not loaded it."""


class UnsupportedDialectError(SemanticError):
    """The dialect is unknown, or cannot express the query without changing its meaning."""


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt name, or None when none is close.

    >>> closest("critcal", ["critical", "high"])
    'critical'
    """
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""``.

    >>> did_you_mean("severty", ["severity", "status"])
    "; did you mean 'severity'?"
    """
    match = closest(name, candidates)
    return f"; did you mean {match!r}?" if match else ""


__all__ = [
    "SemanticError",
    "UnknownNamesError",
    "ModelValidationError",
    "UnknownMetricError",
    "UnknownSavedQueryError",
    "UnknownDimensionError",
    "InvalidFilterError",
    "InvalidFilterValueError",
    "InvalidQueryError",
    "InvalidArgumentError",
    "RoleConflictError",
    "GuardrailError",
    "QueryTimeoutError",
    "WarehouseUnavailableError",
    "WarehouseNotFoundError",
    "WarehouseLockedError",
    "WarehouseCorruptError",
    "WarehouseURLError",
    "WarehouseUnreachableError",
    "WarehouseServerUnreachableError",
    "WarehouseLoginError",
    "WarehouseDatabaseMissingError",
    "WarehouseTableMissingError",
    "UnsupportedDialectError",
    "closest",
    "did_you_mean",
]
