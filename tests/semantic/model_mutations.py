"""Mutations of the packaged model files, the edits a person (or a broken disk) makes, each with
what the loader must do about it. Shared by the property tests and ``benchmarks/fault_inputs.py``.

Expectations:
- ``reject``: the mutation changes what a key or a value means in a way the schema can see (a
  type changed, a key renamed or given twice, a list made a mapping, a reference misspelt, bytes
  that are not UTF-8 text, ...): loading must fail with a located ModelValidationError.
- ``same``: a change of form only (CRLF line ends, a BOM, a comment, quotes): the model loads
  and means the same.
- ``any``: the loader must not crash, but either outcome is legitimate (deleting a line may
  delete an optional key; truncating may cut whole definitions).

>>> import random
>>> files = {"a.yaml": b"metrics:\\n  - name: x\\n    hidden: false\\n"}
>>> new, m = mutate(files, random.Random(1), "type_change")
>>> m.kind, m.file, m.line, m.expect
('type_change', 'a.yaml', 2, 'reject')
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from semantic.errors import ModelValidationError
from semantic.model import schema
from semantic.model.loader import load_model
from semantic.model.spec import Location, Model

EXPECT = {
    "type_change": "reject", "duplicate_key": "reject", "rename_key": "reject", "reference_typo": "reject",
    "list_item_to_key": "reject", "key_to_list_item": "reject", "non_utf8": "reject", "nul": "reject",
    "control_char": "reject", "empty_file": "reject", "top_level_list": "reject", "top_level_scalar": "reject",
    "list_to_scalar": "reject",
    "crlf": "same", "bom": "same", "comment": "same", "quote": "same",
    "delete_line": "any", "truncate": "any", "garbage": "any", "swap_lines": "any", "indent": "any",
}
KINDS = tuple(EXPECT)

LINE = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<sep> *)(?P<value>.*)$")
DATA_MAPPINGS = {"columns", "overrides", "metric_roles"}  # their keys are names of columns, models, metrics
FREE_TEXT = {"name", "description", "entity", "entities", "filter_description", "alias"}
FIELD_NAMES = {name for cls in vars(schema).values() if isinstance(cls, type) and issubclass(cls, schema.Entry)
               for name in cls.model_fields}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Mutation:
    kind: str
    file: str
    line: int | None  # 1-based line the mutation touched, where it touched one
    detail: str
    exact: bool = False  # the error must be reported at ``line`` itself

    @property
    def expect(self) -> str:
        return EXPECT[self.kind]


def _value_kind(value: str) -> str:
    value = value.split(" #")[0].strip()
    if not value:
        return "block"
    if value[0] in ">|":
        return "folded"
    if value.startswith("[") and value.endswith("]"):
        return "list"
    if value.startswith("{") and value.endswith("}"):
        return "map"
    if value in ("true", "false"):
        return "bool"
    if value in ("null", "~"):
        return "null"
    return "string"


REPLACEMENTS = {
    "string": ["5", "1.5", "true", "null", "[x]", "{a: 1}"],
    "bool": ["'no'", "\"true\"", "1", "null", "[true]", "yes"],
    "list": ["5", "null", "{a: 1}", "true"],
    "map": ["5", "null", "[a, b]", "x", "true"],
}


def _typo(rng: random.Random, word: str) -> str:
    for _ in range(20):
        i = rng.randrange(len(word))
        edit = rng.choice(["drop", "double", "swap", "change"])
        if edit == "drop" and len(word) > 1:
            new = word[:i] + word[i + 1:]
        elif edit == "double":
            new = word[:i] + word[i] + word[i:]
        elif edit == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
            new = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        else:
            new = word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1:]
        if new != word and IDENTIFIER.fullmatch(new) and new not in FIELD_NAMES:
            return new
    return word + "x"


def _parent_key(lines: list[str], index: int) -> str | None:
    """The key of the mapping a line belongs to (None at the top or in a list item's first line)."""
    indent = len(lines[index]) - len(lines[index].lstrip(" "))
    for j in range(index - 1, -1, -1):
        match = LINE.match(lines[j])
        own = len(lines[j]) - len(lines[j].lstrip(" "))
        if match and own < indent:
            return match["key"] if not match["value"].strip() else None
    return None


def _structure_lines(lines: list[str]) -> list[int]:
    """Lines that are a key (or a list item's first key), never inside a folded text."""
    return [i for i, line in enumerate(lines) if LINE.match(line) and len(LINE.match(line)["indent"]) <= 6
            and not _inside_folded(lines, i)]


def _inside_folded(lines: list[str], index: int) -> bool:
    indent = len(lines[index]) - len(lines[index].lstrip(" "))
    for j in range(index - 1, -1, -1):
        match = LINE.match(lines[j])
        if not lines[j].strip() or lines[j].lstrip().startswith("#"):
            continue
        own = len(lines[j]) - len(lines[j].lstrip(" "))
        if own < indent:
            return bool(match) and _value_kind(match["value"]) == "folded"
    return False


def _line_edit(kind: str, rng: random.Random):
    """For a kind that edits one keyed line: which lines it may take, and the edit
    ``(lines, index, match) -> (line touched, detail, exact)``."""

    def replace(lines, i, m, value):
        lines[i] = f"{m['indent']}{m['dash'] or ''}{m['key']}: {value}"

    def type_change(lines, i, m):
        new = rng.choice(REPLACEMENTS[_value_kind(m["value"])])
        replace(lines, i, m, new)
        return i + 1, f"{m['key']}: {m['value']} -> {new}", True

    def list_to_scalar(lines, i, m):
        first = m["value"].strip()[1:-1].split(",")[0].strip()
        replace(lines, i, m, first)
        return i + 1, f"{m['key']}: {m['value']} -> {first}", False

    def duplicate_key(lines, i, m):
        indent = m["indent"] + ("  " if m["dash"] else "")
        lines.insert(i + 1, f"{indent}{m['key']}: {rng.choice([m['value'], '5'])}")
        return i + 2, f"{m['key']} given twice", True

    def rename_key(lines, i, m):
        new = _typo(rng, m["key"])
        data_key = _parent_key(lines, i) in DATA_MAPPINGS
        lines[i] = f"{m['indent']}{m['dash'] or ''}{new}:{m['sep']}{m['value']}"
        # a schema key's new name is unknown at its line; a renamed column is missed where it is used
        return i + 1, f"{m['key']} -> {new}", not data_key

    def reference_typo(lines, i, m):
        new = _typo(rng, m["value"].strip())
        replace(lines, i, m, new)
        return i + 1, f"{m['key']}: {m['value']} -> {new}", False

    def list_item_to_key(lines, i, m):
        lines[i] = lines[i].replace("- ", "  ", 1)
        return i + 1, f"list item {m['key']} made a key", False

    def key_to_list_item(lines, i, m):
        lines[i] = f"{m['indent']}- {m['key']}:{m['sep']}{m['value']}"
        return i + 1, f"{m['key']} made a list item", False

    def comment(lines, i, m):
        lines.insert(i, f"{m['indent']}# {rng.choice(['note', 'TODO: check', 'key: x'])}")
        return i + 1, "comment line", False

    def quote(lines, i, m):
        replace(lines, i, m, f'"{m["value"].strip()}"')
        return i + 1, f"{m['key']} quoted", False

    def indent(lines, i, m):
        lines[i] = lines[i][2:] if m["indent"] and rng.random() < 0.5 else "  " + lines[i]
        return i + 1, "indentation changed", False

    kinds = {
        "type_change": (lambda m: _value_kind(m["value"]) in REPLACEMENTS, type_change),
        "list_to_scalar": (lambda m: _value_kind(m["value"]) == "list" and m["value"].strip() != "[]", list_to_scalar),
        "duplicate_key": (lambda m: _value_kind(m["value"]) not in ("block", "folded"), duplicate_key),
        "rename_key": (lambda m: True, rename_key),
        "reference_typo": (lambda m: m["key"] not in FREE_TEXT and _value_kind(m["value"]) == "string"
                           and IDENTIFIER.fullmatch(m["value"].strip()), reference_typo),
        "list_item_to_key": (lambda m: m["dash"], list_item_to_key),
        "key_to_list_item": (lambda m: not m["dash"] and len(m["indent"]) >= 2, key_to_list_item),
        "comment": (lambda m: len(m["indent"]) <= 4, comment),
        "quote": (lambda m: _value_kind(m["value"]) == "string" and not set("'\"#") & set(m["value"]), quote),
        "indent": (lambda m: True, indent),
    }
    return kinds.get(kind)


def _byte_edit(kind: str, rng: random.Random, data: bytes) -> tuple[bytes, int | None, str, bool]:
    """For a kind that edits the bytes: the new bytes, the line touched, what was done, exact."""
    at = rng.randrange(len(data) + 1)
    line = data[:at].count(b"\n") + 1
    if kind == "non_utf8":
        return data[:at] + rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\x80"]) + data[at:], line, \
            f"invalid UTF-8 at byte {at}", True
    if kind in ("nul", "control_char"):
        char = b"\x00" if kind == "nul" else bytes([rng.choice([1, 2, 7, 8, 0x0b, 0x0c, 0x1b, 0x7f])])
        return data[:at] + char + data[at:], line, f"{char!r} at byte {at}", True
    if kind == "garbage":
        junk = "".join(rng.choice("abc:-[]{}#&*!|>'\"%@` \n\t,?~=") for _ in range(rng.randint(1, 6)))
        return data[:at] + junk.encode() + data[at:], line, f"{junk!r} at byte {at}", False
    if kind == "truncate":
        return data[:at], None, f"cut at byte {at}", False
    if kind == "delete_line":
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i] + lines[i + 1:]), i + 1, "line deleted", False
    if kind == "swap_lines":
        lines = data.split(b"\n")
        i = rng.randrange(max(1, len(lines) - 1))
        lines[i:i + 2] = lines[i:i + 2][::-1]
        return b"\n".join(lines), i + 1, "two lines swapped", False
    whole = {
        "empty_file": lambda: rng.choice([b"", b"\n", b"# emptied\n", b"---\n"]),
        "top_level_list": lambda: b"- " + data.replace(b"\n", b"\n  "),
        "top_level_scalar": lambda: rng.choice([b"hello\n", b"42\n", b"true\n", b"'metrics'\n"]),
        "crlf": lambda: data.replace(b"\n", b"\r\n"),
        "bom": lambda: b"\xef\xbb\xbf" + data,
    }
    return whole[kind](), None, kind.replace("_", " "), False


def mutate(files: dict[str, bytes], rng: random.Random, kind: str) -> tuple[dict[str, bytes], Mutation]:
    """One mutation of one file (chosen by ``rng`` among the files it applies to); the other
    files are left as they are."""
    edit = _line_edit(kind, rng)
    for name in rng.sample(sorted(files), len(files)):
        if edit is None:
            data, line, detail, exact = _byte_edit(kind, rng, files[name])
            return {**files, name: data}, Mutation(kind, name, line, detail, exact)
        lines = files[name].decode("utf-8").split("\n")
        matches = {i: LINE.match(lines[i]) for i in _structure_lines(lines)}
        candidates = [i for i, m in matches.items() if edit[0](m)]
        if candidates:
            i = rng.choice(candidates)
            line, detail, exact = edit[1](lines, i, matches[i])
            return {**files, name: "\n".join(lines).encode("utf-8")}, Mutation(kind, name, line, detail, exact)
    raise ValueError(f"no file has a line for {kind}")


def meaning(value):
    """A model as comparable data, without where things were declared."""
    if isinstance(value, Model):
        return meaning((value.models, value.dimensions, value.metrics))
    if dataclasses.is_dataclass(value):
        return tuple((f.name, meaning(getattr(value, f.name))) for f in dataclasses.fields(value)
                     if f.name not in ("where", "table_where", "column_where"))
    if isinstance(value, dict):
        return tuple(sorted((k, meaning(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        return tuple(meaning(v) for v in value)
    if isinstance(value, exp.Expression):
        return value.sql()
    if isinstance(value, Location):
        return None
    return value


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


LOCATED = re.compile(r" at (?P<file>\S+):(?P<line>\d+)$")
FAIR = {"reject": {"rejected"}, "same": {"same"}, "any": {"rejected", "same", "changed"}}


def located(problems: list[str]) -> list[tuple[str, int]]:
    """The (file name, line) of each problem of a ModelValidationError; ('', 0) where none is given."""
    out = []
    for problem in problems:
        match = LOCATED.search(problem)
        out.append((Path(match["file"]).name, int(match["line"])) if match else ("", 0))
    return out


def judge(mutation: Mutation, folder: Path, warehouse, original) -> tuple[str, str]:
    """Load the mutated folder (checked against ``warehouse``) and say what happened: 'rejected'
    (every problem located, at the touched line where the mutation is exact), 'unlocated',
    'elsewhere', 'same' or 'changed' (accepted, meaning as ``original`` or not); with the message.
    Any exception other than ModelValidationError propagates."""
    try:
        model = load_model(folder, warehouse=warehouse)
    except ModelValidationError as err:
        where = located(getattr(err, "problems", None) or [str(err)])
        if any(line < 1 for _, line in where):
            return "unlocated", str(err)
        if mutation.exact and (mutation.file, mutation.line) not in where:
            return "elsewhere", str(err)
        return "rejected", str(err)
    return ("same" if meaning(model) == original else "changed"), ""


def fair(kind: str, outcome: str) -> bool:
    """Whether an outcome is what a kind of mutation allows."""
    return outcome in FAIR[EXPECT[kind]]
