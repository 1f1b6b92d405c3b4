"""Suite-wide collection rules, loaded with ``-p`` (pyproject): under ``tests/`` only test modules
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


def pytest_collection_modifyitems(items: list) -> None:
    """Files with tests marked ``slow`` first, the rest after, each file's order kept: under
    pytest-xdist (``--dist loadfile --no-loadscope-reorder``, a file per worker, in this order) the
    long files start early and the many short ones fill the end, instead of a demo or a server
    test starting last while the other worker has nothing left to do."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
