"""The fields every row needs, checked before anything is written.

An API answering ``{"exploratory_tests": [{"id": 999999}]}`` sends a well-formed envelope
whose row is not a test: stored, it would become a row of NULLs that every key check passes.
Each kind of record names the fields without which a row means nothing; a record lacking one
fails the step with :class:`InvalidRecordError`, so nothing of that answer is written.

>>> check_required("product", [{"id": 1, "name": "Web"}], endpoint="products")
>>> check_required("product", [{"id": 1}], endpoint="products")
Traceback (most recent call last):
...
testio_assets.ingestion.required.InvalidRecordError: the API sent 1 product(s) without the fields every product needs (id, name): id 1 lacks name. Nothing from this answer was written; the previous tables are kept. A 200 answer with such rows is not the documented Customer API v2: check TESTIO_CUSTOMER_API_BASE_URL, and report it to TestIO if it persists
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from testio_assets.client.errors import TestIOResponseError
from testio_assets.settings import BASE_URL_ENV

# Dotted paths into the API's record; an id must be an integer, anything else non-empty.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "product": ("id", "name"),
    "feature": ("id", "title"),
    "test": ("id", "status", "product.id"),
    "test feature": ("id", "feature_id"),
    "bug": ("id", "test.id", "status", "severity"),
}
EXAMPLES = 3


class InvalidRecordError(TestIOResponseError):
    """The API answered with rows lacking fields every row of their kind needs."""

    def __init__(self, kind: str, problems: Sequence[str], count: int, *, endpoint: str) -> None:
        fields = ", ".join(REQUIRED_FIELDS[kind])
        shown = "; ".join(problems[:EXAMPLES]) + ("; ..." if count > EXAMPLES else "")
        super().__init__(
            f"the API sent {count} {kind}(s) without the fields every {kind} needs ({fields}): "
            f"{shown}. Nothing from this answer was written; the previous tables are kept. A "
            "200 answer with such rows is not the documented Customer API v2: check "
            f"{BASE_URL_ENV}, and report it to TestIO if it persists",
            endpoint=endpoint,
        )
        self.kind = kind
        self.count = count


def _value(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _present(path: str, value: Any) -> bool:
    if path == "id" or path.endswith((".id", "_id")):
        return isinstance(value, int) and not isinstance(value, bool)
    return value is not None and value != ""


def missing_fields(kind: str, record: Mapping[str, Any]) -> list[str]:
    """The required fields of ``kind`` that ``record`` lacks (or holds with the wrong type)."""
    return [path for path in REQUIRED_FIELDS[kind] if not _present(path, _value(record, path))]


def check_required(
    kind: str, records: Iterable[Mapping[str, Any]], *, endpoint: str, where: str = ""
) -> None:
    """Raise :class:`InvalidRecordError` when any record lacks a required field of ``kind``."""
    problems = []
    for record in records:
        missing = missing_fields(kind, record)
        if missing:
            name = f"id {record.get('id')}" if "id" not in missing else "a row"
            problems.append(f"{name} lacks {', '.join(missing)}{where}")
    if problems:
        raise InvalidRecordError(kind, problems, len(problems), endpoint=endpoint)


# Where the bugs decoder (set-based, in DuckDB) puts each required field of a bug.
_BUG_COLUMNS = {"id": "bug_id", "test.id": "test_id", "status": "api_status", "severity": "severity"}


def check_bugs_table(bugs: pa.Table) -> None:
    """:func:`check_required` for bugs already decoded into the ``bugs`` table's columns."""
    missing = {
        path: bugs.num_rows - pc.count(bugs[column]).as_py() for path, column in _BUG_COLUMNS.items()
    }
    counts = {path: n for path, n in missing.items() if n}
    if counts:
        problems = [f"{n} lack {path}" for path, n in counts.items()]
        raise InvalidRecordError("bug", problems, max(counts.values()), endpoint="bugs")
