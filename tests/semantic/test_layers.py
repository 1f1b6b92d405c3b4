"""The folders of semantic/ are stages; each imports only the stages before it, and no module
reaches into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "semantic"
STAGES = ["model", "plan", "sql", "answer", "surfaces"]  # in order; errors, config and project serve every stage
SHARED = {"semantic.errors", "semantic.config", "semantic.project"}
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


@pytest.mark.parametrize("path", [p for p in MODULES if _stage(_name(p)) is not None or _name(p) in SHARED],
                         ids=lambda p: _name(p))
def test_a_stage_imports_only_the_stages_before_it(path):
    module = _name(path)
    own = _stage(module)
    for node in _imports(path):
        targets = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for target in (t for t in targets if t == "semantic" or t.startswith("semantic.")):
            if module in SHARED:
                assert target in SHARED, f"{module} (shared by every stage) imports {target}"
                continue
            stage = _stage(target)
            assert target in SHARED or (stage is not None and stage <= own), \
                f"{module} ({STAGES[own]}) imports {target}, which is not an earlier stage"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_no_module_imports_another_modules_private_names(path):
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("semantic"):
            assert not [a.name for a in node.names if a.name.startswith("_")], f"{_name(path)}: {ast.unparse(node)}"
