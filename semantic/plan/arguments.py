"""The arguments of a query checked and put in one form before planning: names as tuples,
filters as a mapping of name to a value or a tuple of values, the sort order, the row limit and
the ``fill_missing`` flag. A wrong type is an :class:`InvalidArgumentError` (or, in a filter,
an :class:`InvalidFilterError`) that names the argument, what was given and what is accepted;
nothing is coerced that could change the question (``fill_missing='no'`` is not true).

One rule for every list of names (metrics, dimensions, sort keys): a list of names, one name,
or one string of comma-separated names, as the notebook helper and the CLI write them.

>>> names("bug_count, bugs_per_test", "metrics")
('bug_count', 'bugs_per_test')
>>> query_request(["bug_count"], "severity", {"severity": ["critical", None]}, None, "DESC", 10, False)
QueryRequest(metrics=('bug_count',), dimensions=('severity',), filters=(('severity', ('critical', None)),), sort_by=(), sort_order='desc', limit=10, fill_missing=False)
>>> query_request(["bug_count"], fill_missing="no")
Traceback (most recent call last):
...
semantic.errors.InvalidArgumentError: fill_missing must be True or False, not str 'no'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from semantic.errors import InvalidArgumentError, InvalidFilterError

FILTER_VALUE_TYPES = (str, int, float, bool)


def shown(value: Any) -> str:
    """A value as an error shows it: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def names(value: Any, argument: str) -> tuple[str, ...]:
    """A list of names, one name, or comma-separated names, as a tuple of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(n.strip() for n in value.split(",") if n.strip())
    if isinstance(value, (Mapping, bytes, bytearray)) or not isinstance(value, Iterable):
        raise InvalidArgumentError(argument, f"{argument} must be a list of names, one name, or comma-separated "
                                             f"names in one string, not {shown(value)}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgumentError(argument, f"{argument} must hold names (strings), not {shown(item)}")
    return tuple(item.strip() for item in items)


def flag(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"{argument} must be True or False, not {shown(value)}")
    return value


def sort_direction(value: Any) -> str:
    direction = value.strip().lower() if isinstance(value, str) else None
    if direction not in ("asc", "desc"):
        raise InvalidArgumentError("sort_order", f"sort_order must be 'asc' or 'desc', not {shown(value)}")
    return direction


def row_limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise InvalidArgumentError("limit", f"limit must be a positive whole number of rows (or None for the "
                                            f"configured default), not {shown(value)}")
    return int(value)


def _filter_value(name: str, value: Any) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # a NumPy scalar (an id taken from an answer's DataFrame) as the value it holds
    if value is None:
        return None
    if not isinstance(value, FILTER_VALUE_TYPES):
        kind = "a list may hold only values, not another collection" if isinstance(value, (Iterable, Mapping)) \
            and not isinstance(value, (str, bytes)) else "a value must be text, a number, True/False or None"
        raise InvalidFilterError(f"filter {name!r}: {kind}; got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidFilterError(f"filter {name!r}: {value} is not a value to compare with; use None for NULL")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidFilterError(f"filter {name!r}: {value!r} is not valid Unicode text "
                                     f"(it holds a lone surrogate)") from None
    return value


def filter_values(filters: Any) -> tuple[tuple[str, Any], ...]:
    """``{name: value | [values]}`` as pairs of a name and a value or a tuple of values."""
    if filters is None:
        return ()
    if not isinstance(filters, Mapping):
        raise InvalidFilterError(f"filters must be a mapping of dimension name to a value, a list of values, or "
                                 f"None, e.g. {{'severity': ['critical', 'high']}}; not {shown(filters)}")
    pairs = []
    for name, value in filters.items():
        if not isinstance(name, str):
            raise InvalidFilterError(f"filter names must be dimension names (strings), not {shown(name)}")
        if isinstance(value, (list, tuple, set, frozenset)):
            pairs.append((name, tuple(_filter_value(name, v) for v in value)))
        else:
            pairs.append((name, _filter_value(name, value)))
    return tuple(pairs)


@dataclass(frozen=True)
class QueryRequest:
    """A query's arguments after checking: hashable, so compiled queries can be cached by it."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    filters: tuple[tuple[str, Any], ...]
    sort_by: tuple[str, ...]
    sort_order: str
    limit: int | None
    fill_missing: bool


def query_request(metrics, dimensions=(), filters=None, sort_by=None, sort_order="desc", limit=None,
                  fill_missing=False) -> QueryRequest:
    """Check every argument of a query that does not need the model (names are checked by the planner)."""
    return QueryRequest(names(metrics, "metrics"), names(dimensions, "dimensions"), filter_values(filters),
                        names(sort_by, "sort_by"), sort_direction(sort_order), row_limit(limit),
                        flag(fill_missing, "fill_missing"))
