"""The declared schema of a model file: which keys each YAML construct takes, and of what type.

Validated with pydantic in strict mode, so a string is never read as a boolean (``hidden: 'no'``)
or as a list of characters (``allowed_values: critical``), and an empty value (``name:``) is never
a name. ``schema_problems.py`` words each violation with its file and line.
To add a key to a construct, add one line to its class here (a key every metric takes goes on
:class:`MetricBase`), then read it in ``loader.py``.

>>> f = ModelFile.model_validate({"metrics": [{"name": "n", "type": "count", "model": "bugs", "expr": "bug_id"}]})
>>> f.metrics[0].type, f.metrics[0].hidden
('count', False)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from semantic.model.source import LineList, LineMap
from semantic.model.spec import AGGREGATIONS, CARDINALITIES, EXPORT_FORMATS, GRANULARITIES, VALUE_TYPES

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Expression = Annotated[str, StringConstraints(pattern=r"\S")]  # SQL text; the loader parses it
# An optional key defaults to None, but its annotation admits no None: a key written with an
# empty value (``filter:``) is refused rather than read as absent.


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    raise PydanticCustomError("scalar_type", "must be a text, number or true/false value")


Scalar = Annotated[Any, AfterValidator(_scalar)]


def _where_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list) and value and all(v is None or isinstance(v, (str, int, float, bool)) for v in value):
        return value
    raise PydanticCustomError("where_value_type", "must be a value, a non-empty list of values, or null")


WhereValue = Annotated[Any, AfterValidator(_where_value)]  # None is a value here: IS NULL


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
            entry._key_lines = {key: (line, _inner_lines(data.get(key))) for key, line in data.key_lines.items()}
        return entry

    def line_of(self, key: str | None = None, inner: Any = None) -> int:
        """The line of ``key`` (of ``inner`` within the mapping under ``key``, or of item number
        ``inner`` of the list under it), else of the entry."""
        line, inner_lines = self._key_lines.get(key, (self._line, {}))
        return inner_lines.get(inner, line) if inner is not None else line


def _inner_lines(value: Any) -> dict:
    if isinstance(value, LineList):
        return dict(enumerate(value.item_lines))
    return getattr(value, "key_lines", {})


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
    metric_roles: dict[Name, Name] = {}  # metric: the dimension (another role) that groups it


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


class QueryParams(Entry):
    """The question of a saved query, in MetricFlow's words (``order_by: [-bug_count]`` sorts
    descending) plus the date range in the layer's date grammar."""

    metrics: Annotated[list[Name], Field(min_length=1)]
    group_by: list[Name] = []
    where: dict[Name, WhereValue] = {}
    order_by: list[Annotated[str, StringConstraints(pattern=r"^-?[A-Za-z_][A-Za-z0-9_]*$")]] = []
    limit: Annotated[int, Field(ge=1)] = None
    start_date: Expression = None
    end_date: Expression = None
    fill_missing: bool = False


class ExportConfig(Entry):
    format: Literal[EXPORT_FORMATS]
    path: Expression = None  # relative to the exports directory; default <export name>.<format>


class Export(Entry):
    name: Name
    config: ExportConfig


class SavedQuery(Entry):
    name: Name
    description: str = ""
    query_params: QueryParams
    exports: list[Export] = []


class ModelFile(Entry):
    semantic_models: list[SemanticModel] = []
    dimensions: list[Dimension] = []
    time_dimensions: list[TimeDimension] = []
    metrics: list[Metric] = []
    saved_queries: list[SavedQuery] = []

