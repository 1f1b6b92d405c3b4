"""Copies of the shipped YAML model for tests that edit one line and load the copy.

>>> import tempfile
>>> from pathlib import Path
>>> root = copy_models(Path(tempfile.mkdtemp()))
>>> edit(root / "bugs.yaml", "key: severity", "key: severty") > 1
True
"""

from __future__ import annotations

import shutil
from pathlib import Path

from semantic.model.loader import MODELS_DIR


def copy_models(tmp_path: Path) -> Path:
    """The shipped model files copied into ``tmp_path/models``."""
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in a file by ``new``; returns the 1-based line it started on."""
    text = path.read_text()
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line
