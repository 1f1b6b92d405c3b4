"""Reading model files: UTF-8 YAML whose mappings and lists remember their lines, duplicate keys
refused, SQL expressions parsed once, and problems collected with their locations.

>>> doc = parse_yaml("metrics:\\n  - name: a\\n    name: b\\n", "m.yaml", problems := Problems())
>>> problems.problems[0][0]
"duplicate key 'name' (first at line 2); YAML would keep only the last one: remove or rename one of them"
>>> str(problems.problems[0][1]), doc["metrics"].item_lines
('m.yaml:3', [2])
>>> parse_expression(problems, "severity = 'critical'", Location("bugs.yaml", 3), "a filter").sql()
"severity = 'critical'"
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

from semantic.errors import ModelValidationError
from semantic.model.spec import Location

_MERGE_TAG = "tag:yaml.org,2002:merge"


class LineMap(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict


class LineList(list):
    """A YAML list that remembers the line of itself and of each item."""

    line: int = 0
    item_lines: list


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are :class:`LineMap` and lists :class:`LineList`, with 1-based
    lines; a key given twice in one mapping is recorded in ``duplicates`` (PyYAML would keep the
    last silently), and a value a constructor cannot build is a marked error, not a ValueError."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[object, int, int]] = []  # (key, first line, repeated line)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as e:  # e.g. 2025-02-30, !!int x
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {getattr(node, 'value', '')!r} as {node.tag.rsplit(':', 1)[-1]}: {e}",
                node.start_mark) from None

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        first: dict[object, int] = {}
        for key_node, _ in node.value:  # before merge keys (<<) are flattened: overriding them is allowed
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = self.construct_object(key_node), key_node.start_mark.line + 1
            if key in first:
                self.duplicates.append((key, first[key], line))
            else:
                first[key] = line
        mapping = LineMap(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            self.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value
        }
        return mapping

    def construct_line_list(self, node):
        items = LineList(self.construct_sequence(node, deep=True))
        items.line = node.start_mark.line + 1
        items.item_lines = [n.start_mark.line + 1 for n in node.value]
        return items


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, LineLoader.construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, LineLoader.construct_line_list)
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


def parse_expression(ctx: Problems, text: str, where: Location, what: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.SqlglotError as e:
        ctx.error(f"invalid SQL expression {text!r} in {what}: {str(e).splitlines()[0]}", where)
        return None


def _line_at(data: bytes | str, offset: int) -> int:
    return data[:offset].count(b"\n" if isinstance(data, bytes) else "\n") + 1


def parse_yaml(text: str, shown: str, ctx: Problems) -> object | None:
    """The YAML document of one file with lines kept, or None after recording why it cannot be read."""
    loader = None
    try:
        loader = LineLoader(text)  # the reader checks every character here
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        ctx.error(f"malformed YAML: {e.problem or e}", Location(shown, mark.line + 1 if mark else 1))
        return None
    except yaml.reader.ReaderError as e:
        shown_char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        ctx.error(f"character {shown_char} is not allowed in YAML (a control character); remove it",
                  Location(shown, _line_at(text, e.position)))
        return None
    except RecursionError:
        ctx.error("malformed YAML: nested too deeply", Location(shown, 1))
        return None
    finally:
        if loader is not None:
            loader.dispose()
    for key, first, line in loader.duplicates:
        ctx.error(f"duplicate key {key!r} (first at line {first}); YAML would keep only the last one: "
                  f"remove or rename one of them", Location(shown, line))
    return doc


def read_model_file(path: Path, ctx: Problems) -> object | None:
    """Read and parse one model file; a file that is not UTF-8 YAML is a recorded problem, not an exception."""
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        ctx.error(f"cannot read the model file: {e.strerror or e}", Location(shown, 1))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        ctx.error(f"the file is not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8",
                  Location(shown, _line_at(data, e.start)))
        return None
    if "\x00" in text:
        ctx.error("the file contains a NUL character (it looks binary or corrupted); remove it",
                  Location(shown, _line_at(text, text.index("\x00"))))
        return None
    before = len(ctx.problems)
    doc = parse_yaml(text, shown, ctx)
    if doc is None and len(ctx.problems) == before:
        ctx.error("the file declares nothing (it is empty or only comments); delete it, or declare "
                  "semantic_models, dimensions, time_dimensions, metrics or saved_queries in it", Location(shown, 1))
    return doc


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
