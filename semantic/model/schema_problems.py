"""Schema violations in words: each pydantic error of a model file becomes one message with the
line it is at, the entry it is in ("metric bug_count"), what is wrong and how to fix it (a
did-you-mean for an unknown key or value, the allowed keys, how to write a list or a boolean).

>>> from pydantic import ValidationError
>>> from semantic.model.source import Problems, parse_yaml
>>> doc = parse_yaml("metrics:\\n  - name: x\\n    type: count\\n    model: bugs\\n    expr: bug_id\\n    hiden: true\\n", "m.yaml", Problems())
>>> try:
...     ModelFile.model_validate(doc)
... except ValidationError as e:
...     [(message, str(where)) for message, where in schema_problems(e, doc, "m.yaml")]
[("unknown field 'hiden' in metric x; did you mean 'hidden'? (allowed: name, description, hidden, type, model, expr, filter)", 'm.yaml:6')]
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any, Union

from pydantic import ValidationError

from semantic.errors import did_you_mean
from semantic.model.schema import (
    AggregationMetric, DerivedMetric, Dimension, Entry, ExportConfig, Join, ModelFile, RatioMetric, SemanticModel,
    TimeDimension,
)
from semantic.model.source import LineList, LineMap
from semantic.model.spec import METRIC_TYPES, Location

METRIC_FIELDS = {f for cls in (AggregationMetric, RatioMetric, DerivedMetric) for f in cls.model_fields}
SECTIONS = {"semantic_models": "semantic model", "dimensions": "dimension", "time_dimensions": "time dimension",
            "metrics": "metric", "joins": "join", "inputs": "input", "saved_queries": "saved query",
            "exports": "export"}
NOUNS = {(Join, "type"): "cardinality", (SemanticModel, "columns"): "column type",
         (TimeDimension, "granularities"): "granularity", (Dimension, "value_type"): "value type",
         (ExportConfig, "format"): "export format"}
EXPECTED = {"string_type": "text", "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
            "model_type": "a mapping of fields", "model_attributes_type": "a mapping of fields",
            "scalar_type": "a text, number or true/false value",
            "metric_input_type": "a metric name or {metric: name, filter: ..., alias: ...}",
            "where_value_type": "a value, a non-empty list of values, or null",
            "int_type": "a whole number"}


def schema_problems(error: ValidationError, doc: Any, file: str) -> list[tuple[str, Location]]:
    """One message per schema violation, located at its line: what is wrong, and a hint."""
    problems = []
    for err in error.errors(include_url=False):
        line, owner, path, node = _locate(doc, err["loc"])
        message = _message(err, owner, path, *_schema_at(err["loc"]))
        if err["type"].startswith("union_tag") and isinstance(node, LineMap):
            # without its type a metric is validated no further, so a misspelt 'type' key is named here
            unknown = [k for k in node if isinstance(k, str) and k not in METRIC_FIELDS]
            close = difflib.get_close_matches("type", unknown, n=1, cutoff=0.6)
            if "type" in node.key_lines:
                line = node.key_lines["type"]
            elif close:
                line, message = node.key_lines[close[0]], f"{message}; is {close[0]!r} a misspelt 'type'?"
        problems.append((message, Location(file, line)))
    return problems


def _locate(doc: Any, loc: tuple) -> tuple[int, str, list[str], Any]:
    """Walk the YAML along an error's location: the line reached, the named entry that holds the
    problem ("metric bug_count"), the keys from that entry to the problem, and the value there."""
    node, line, owner, path, key = doc, getattr(doc, "line", 0) or 1, "the file", [], None
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line) if isinstance(node, LineMap) else line
            node, key = node[part], part
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part] if isinstance(node, LineList) else line
            node = node[part]
            if key in SECTIONS:
                owner = _entry(SECTIONS[key], node, part) + ("" if owner == "the file" else f" of {owner}")
                path = []
            else:
                path.append(f"item {part + 1}")
    return line, owner, path, node


def _entry(kind: str, node: Any, index: int) -> str:
    name = node.get("to" if kind == "join" else "name") if isinstance(node, dict) else None
    if isinstance(name, str):
        return f"join to {name}" if kind == "join" else f"{kind} {name}"
    return f"{kind} #{index + 1}"


def _schema_at(loc: tuple) -> tuple[type[Entry], str | None]:
    """The schema class that holds an error's location, and the field of it the location is in."""
    tp: Any = ModelFile
    cls, field = ModelFile, None
    for part in loc:
        while typing.get_origin(tp) is Annotated:
            tp = typing.get_args(tp)[0]
        if isinstance(tp, type) and issubclass(tp, Entry):
            cls = tp
            if part not in tp.model_fields:
                break
            field, tp = part, tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (list, dict):
            tp = typing.get_args(tp)[-1]
        elif typing.get_origin(tp) in (Union, types.UnionType):
            tp = next((m for m in typing.get_args(tp) if part in typing.get_args(m.model_fields["type"].annotation)), None)
    return cls, field


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return f"{value} (a {type(value).__name__})"


def _hint(kind: str, value: Any) -> str:
    if value is None:
        return "; give a value or remove it"
    if kind == "bool_type" and isinstance(value, str):
        return "; write true or false without quotes"
    if kind == "list_type" and not isinstance(value, dict):
        return f"; write a list, even of one item: [{value}]"
    if kind == "string_type" and not isinstance(value, (list, dict)):
        return "; quote it if you mean the text"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not isinstance(value, list):
        return "; write its keys on the lines below, indented"
    return ""


def _message(err: dict, owner: str, path: list[str], cls: type[Entry], field: str | None) -> str:
    kind, value, ctx, loc = err["type"], err.get("input"), err.get("ctx") or {}, err["loc"]
    where = f"{' '.join(path)} of {owner}" if path else owner
    if kind == "extra_forbidden":
        inside = f"{' '.join(path[:-1])} of {owner}" if len(path) > 1 else owner
        allowed = list(cls.model_fields)
        return f"unknown field {loc[-1]!r} in {inside}{did_you_mean(loc[-1], allowed)} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{where} lacks the required field {loc[-1]!r}"
    if kind == "union_tag_not_found":
        return f"{where} lacks the required field 'type' (one of {', '.join(METRIC_TYPES)})"
    if kind == "union_tag_invalid":
        valid = _literals(ctx["expected_tags"])
        return f"bad metric type {ctx['tag']!r} in {where} (valid: {', '.join(valid)}){did_you_mean(ctx['tag'], valid)}"
    if kind == "literal_error":
        valid = _literals(ctx["expected"])
        noun = NOUNS.get((cls, field), field or "value")
        return f"bad {noun} {value!r} in {owner} (valid: {', '.join(valid)}){did_you_mean(str(value), valid)}"
    if not loc and kind in ("model_type", "model_attributes_type"):
        return f"the top level of a model file must be a mapping of {', '.join(ModelFile.model_fields)}, got {_describe(value)}"
    if loc and loc[-1] == "[key]":
        return f"keys of {where} must be names, got {_describe(value)}"
    if kind in EXPECTED:
        return f"{where} must be {EXPECTED[kind]}, got {_describe(value)}{_hint(kind, value)}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == r"\S":
            return f"{where} must not be empty"
        return f"{where} must be a name (letters, digits and _, not starting with a digit), got {_describe(value)}"
    if kind == "too_short":
        return f"{where} must not be empty"
    if kind == "greater_than_equal":
        return f"{where} must be at least {ctx['ge']}, got {_describe(value)}"
    if kind == "invalid_key":
        return f"keys of {where} must be names, got {_describe(value)}"
    return f"{where}: {err['msg']}"


def _literals(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)
