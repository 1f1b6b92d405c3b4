"""Every module of both packages imports on its own, as ``python -c "import X"`` does.

An import cycle hides while some other module happens to be imported first (the assets package
and the checks once imported each other, so ``import testio_assets.checks`` alone failed). One
subprocess imports the modules one after another, and before each it forgets every module of the
two packages, so each import starts from none of them loaded (third-party libraries stay cached:
a cycle can only run through the project's own modules).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every module imported afresh in a process

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("semantic", "testio_assets")

_IMPORT_EACH = """
import importlib, json, sys, traceback
packages = {packages!r}
failures = {{}}
for name in {modules!r}:
    for loaded in [m for m in sys.modules if m.split(".")[0] in packages]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def project_modules() -> list[str]:
    modules = []
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_module_of_both_packages_imports_on_its_own(tmp_path):
    modules = project_modules()
    assert len(modules) > 100 and "testio_assets.checks" in modules
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH.format(packages=PACKAGES, modules=modules)],
        cwd=tmp_path,  # the installed packages, as from any folder
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    failures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"{name}:\n{error}" for name, error in failures.items())


def test_ingestion_the_client_and_the_simulator_load_without_dagster(tmp_path):
    # Dagster types stay at the asset boundary: these layers raise and return their own.
    layers = [m for m in project_modules() if m.startswith(
        ("testio_assets.ingestion", "testio_assets.client", "testio_assets.simulator")
    ) and m not in ("testio_assets.client.resource", "testio_assets.simulator.resource")]
    check = (
        "import importlib, sys\n"
        f"for name in {layers!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster')[:3])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    assert len(layers) > 30
    assert completed.stdout.strip() == "[]"
