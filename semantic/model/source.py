"""Reading model files: YAML mappings that remember their lines, the fields each kind of entry
may have, SQL expressions parsed once, and problems collected with their locations.

>>> problems = Problems()
>>> parse_expression(problems, "severity = 'critical'", Location("bugs.yaml", 3), "a filter").sql()
"severity = 'critical'"
>>> problems.problems
[]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from semantic.errors import ModelValidationError, did_you_mean
from semantic.model.spec import Location


class LineMap(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are :class:`LineMap` with 1-based line numbers."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        mapping = LineMap(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            self.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value
        }
        return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, LineLoader.construct_mapping)
# YAML 1.2 booleans only: 'on', 'off', 'yes', 'no' stay strings (a join's 'on:' key).
LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class Problems:
    """Collects validation problems with their locations."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, Location | None]] = []

    def error(self, message: str, where: Location | None) -> None:
        self.problems.append((message, where))

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        lines = [f"{m} at {w}" if w else m for m, w in self.problems]
        first = self.problems[0][1]
        err = ModelValidationError(
            lines[0] if len(lines) == 1 else f"{len(lines)} problems in the semantic model:\n  " + "\n  ".join(lines),
            file=first.file if first else None,
            line=first.line if first else None,
        )
        err.problems = lines  # type: ignore[attr-defined]
        raise err


def location(file: str, node: Any, key: str | None = None) -> Location:
    if isinstance(node, LineMap):
        if key is not None and key in node.key_lines:
            return Location(file, node.key_lines[key])
        return Location(file, node.line)
    return Location(file, 0)


FIELDS = {
    "top": {"semantic_models", "dimensions", "time_dimensions", "metrics"},
    "semantic_model": {"name", "table", "description", "entity", "entities", "primary_key", "columns", "joins",
                       "default_scope"},
    "default_scope": {"dimension", "values", "description"},
    "join": {"to", "type", "on", "bridge", "required"},
    "dimension": {"name", "description", "filter_description", "model", "key", "overrides", "id", "label", "members",
                  "allowed_values", "value_type", "metric_roles"},
    "time_dimension": {"name", "description", "model", "expr", "granularities"},
    "metric": {"name", "description", "type", "model", "expr", "filter", "numerator", "denominator", "inputs", "hidden"},
}


def check_fields(ctx: Problems, file: str, node: Any, kind: str, what: str) -> bool:
    if not isinstance(node, dict):
        ctx.error(f"{what} must be a mapping, got {type(node).__name__}", location(file, node))
        return False
    for key in node:
        if key not in FIELDS[kind]:
            ctx.error(f"unknown field {key!r} in {what}{did_you_mean(key, FIELDS[kind])}", location(file, node, key))
    return True


def parse_expression(ctx: Problems, text: Any, where: Location, what: str) -> exp.Expression | None:
    if not isinstance(text, (str, int, float, bool)) or isinstance(text, bool):
        ctx.error(f"{what} must be a SQL expression string, got {text!r}", where)
        return None
    try:
        return sqlglot.parse_one(str(text), read="duckdb")
    except sqlglot.errors.SqlglotError as e:
        ctx.error(f"invalid SQL expression {text!r} in {what}: {str(e).splitlines()[0]}", where)
        return None


def read_model_files(paths: list[Path], ctx: Problems) -> list[tuple[str, LineMap]]:
    docs = []
    for path in paths:
        shown = display_path(path)
        try:
            doc = yaml.load(path.read_text(), Loader=LineLoader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else 0
            raise ModelValidationError(f"malformed YAML: {e.problem or e}", file=shown, line=line) from None
        if doc is None:
            continue
        if not check_fields(ctx, shown, doc, "top", f"file {shown}"):
            continue
        docs.append((shown, doc))
    return docs


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
