"""Suite-wide collection rule, loaded with ``-p`` (pyproject): under ``tests/`` only test modules
are collected; ``--doctest-modules`` is for the packages' docstrings.

Without it, ``--doctest-modules`` imports every helper module and conftest under ``tests/`` while
collecting: a helper that builds definitions at import (``postgres_code_location``) then captured
the default warehouse path before its test pointed it elsewhere, and wrote into the project's own
``data/``; conftest files, imported again under the one name ``conftest``, made a run over several
folders fail with "import file mismatch".
"""

from pathlib import Path

_TESTS = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    path = collection_path.resolve()
    if path.suffix == ".py" and _TESTS in path.parents and not path.name.startswith("test_"):
        return True
    return None
