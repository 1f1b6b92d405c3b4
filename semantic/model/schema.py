"""The declared schema of a model file: which keys each YAML construct takes, and of what type.

Validated with pydantic in strict mode, so a string is never read as a boolean (``hidden: 'no'``)
or as a list of characters (``allowed_values: critical``), and an empty value (``name:``) is never
a name. Every problem becomes one message with the file's line (:func:`schema_problems`).
To add a key to a construct, add one line to its class here (a key every metric takes goes on
:class:`MetricBase`), then read it in ``loader.py``.

>>> f = ModelFile.model_validate({"metrics": [{"name": "n", "type": "count", "model": "bugs", "expr": "bug_id"}]})
>>> f.metrics[0].type, f.metrics[0].hidden
('count', False)
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, ValidationError, model_validator,
)
from pydantic_core import PydanticCustomError

from semantic.errors import did_you_mean
from semantic.model.source import LineList, LineMap
from semantic.model.spec import AGGREGATIONS, CARDINALITIES, GRANULARITIES, METRIC_TYPES, VALUE_TYPES, Location

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Expression = Annotated[str, StringConstraints(pattern=r"\S")]  # SQL text; the loader parses it
# An optional key defaults to None, but its annotation admits no None: a key written with an
# empty value (``filter:``) is refused rather than read as absent.


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    raise PydanticCustomError("scalar_type", "must be a text, number or true/false value")


Scalar = Annotated[Any, AfterValidator(_scalar)]


class Entry(BaseModel):
    """A YAML mapping of known keys; remembers the line of itself, of each key and of the keys of
    its mapping-valued keys (``columns``, ``overrides``, ``on``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    _line: int = PrivateAttr(0)
    _key_lines: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_lines(cls, data: Any, handler):
        entry = handler(data)
        if isinstance(data, LineMap):
            entry._line = data.line
            entry._key_lines = {key: (line, getattr(data.get(key), "key_lines", {})) for key, line in data.key_lines.items()}
        return entry

    def line_of(self, key: str | None = None, inner: Any = None) -> int:
        """The line of ``key`` (of ``inner`` within the mapping under ``key``), else of the entry."""
        line, inner_lines = self._key_lines.get(key, (self._line, {}))
        return inner_lines.get(inner, line) if inner is not None else line


class Join(Entry):
    to: Name
    type: Literal[CARDINALITIES]
    on: Annotated[dict[Name, Name], Field(min_length=1)]
    bridge: bool = False
    required: bool = False


class DefaultScope(Entry):
    dimension: Name
    values: Annotated[list[Scalar], Field(min_length=1)]
    description: str = None


class SemanticModel(Entry):
    name: Name
    table: Name = None
    description: str = ""
    entity: str = None
    entities: str = None
    primary_key: Annotated[list[Name], Field(min_length=1)]
    columns: Annotated[dict[Name, Literal[VALUE_TYPES]], Field(min_length=1)]
    joins: list[Join] = []
    default_scope: DefaultScope = None


class Label(Entry):
    expr: Expression
    lookup: list[Name] = []


class Members(Entry):
    model: Name


class Dimension(Entry):
    name: Name
    description: str = ""
    filter_description: str = ""
    model: Name
    key: Expression
    overrides: dict[Name, Expression] = {}
    id: Expression = None
    label: Label = None
    members: Members = None
    allowed_values: Annotated[list[Scalar], Field(min_length=1)] = None
    value_type: Literal[VALUE_TYPES] = None


class TimeDimension(Entry):
    name: Name
    description: str = ""
    model: Name
    expr: Expression
    granularities: Annotated[list[Literal[GRANULARITIES]], Field(min_length=1)]


class MetricInput(Entry):
    """A ratio's numerator or denominator, or a derived metric's input: a metric name, or a
    mapping with an extra filter and the alias a derived expression uses."""

    metric: Name
    filter: Expression = None
    alias: Name = None

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"metric": value}
        if not isinstance(value, dict):
            raise PydanticCustomError("metric_input_type", "must be a metric name or {metric: name, filter: ..., alias: ...}")
        return value


class MetricBase(Entry):
    """Keys every kind of metric takes."""

    name: Name
    description: str = ""
    hidden: bool = False


class AggregationMetric(MetricBase):
    type: Literal[AGGREGATIONS]
    model: Name
    expr: Expression
    filter: Expression = None


class RatioMetric(MetricBase):
    type: Literal["ratio"]
    numerator: MetricInput
    denominator: MetricInput


class DerivedMetric(MetricBase):
    type: Literal["derived"]
    inputs: Annotated[list[MetricInput], Field(min_length=1)]
    expr: Expression


Metric = Annotated[Union[AggregationMetric, RatioMetric, DerivedMetric], Field(discriminator="type")]


class ModelFile(Entry):
    semantic_models: list[SemanticModel] = []
    dimensions: list[Dimension] = []
    time_dimensions: list[TimeDimension] = []
    metrics: list[Metric] = []


SECTIONS = {"semantic_models": "semantic model", "dimensions": "dimension", "time_dimensions": "time dimension",
            "metrics": "metric", "joins": "join", "inputs": "input"}
NOUNS = {(Join, "type"): "cardinality", (SemanticModel, "columns"): "column type",
         (TimeDimension, "granularities"): "granularity", (Dimension, "value_type"): "value type"}
EXPECTED = {"string_type": "text", "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
            "model_type": "a mapping of fields", "model_attributes_type": "a mapping of fields",
            "scalar_type": "a text, number or true/false value",
            "metric_input_type": "a metric name or {metric: name, filter: ..., alias: ...}"}


def schema_problems(error: ValidationError, doc: Any, file: str) -> list[tuple[str, Location]]:
    """One message per schema violation, located at its line: what is wrong, and a hint."""
    problems = []
    for err in error.errors(include_url=False):
        line, owner, path, node = _locate(doc, err["loc"])
        if err["type"].startswith("union_tag") and isinstance(node, LineMap):
            line = node.key_lines.get("type", line)
        problems.append((_message(err, owner, path, *_schema_at(err["loc"])), Location(file, line)))
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
        return "; give a value or remove the key"
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
    if kind in EXPECTED:
        return f"{where} must be {EXPECTED[kind]}, got {_describe(value)}{_hint(kind, value)}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == r"\S":
            return f"{where} must not be empty"
        return f"{where} must be a name (letters, digits and _, not starting with a digit), got {_describe(value)}"
    if kind == "too_short":
        return f"{where} must not be empty"
    if kind == "invalid_key":
        return f"keys of {where} must be names, got {_describe(value)}"
    return f"{where}: {err['msg']}"


def _literals(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)
