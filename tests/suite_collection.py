"""Suite-wide collection rule, loaded with ``-p`` (pyproject): conftest files are not doctest
modules.

They are loaded as plugins already; with ``--doctest-modules`` pytest would import each again
under the one name ``conftest``, and a run over several folders fails with "import file
mismatch" (``pytest tests/alerts tests/client``).
"""

from pathlib import Path


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    return True if collection_path.name == "conftest.py" else None
