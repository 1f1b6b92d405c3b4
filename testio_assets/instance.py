"""The project's Dagster instance, openable from any working directory.

``dagster.yaml`` keeps its storage paths relative (``.dagster/...``) so ``make ui`` and
``make demo`` work wherever the project is cloned; Dagster resolves them against the working
directory. A notebook or a CLI started elsewhere opens the same instance through
:func:`project_instance`, which resolves them against the project root instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _absolute_base_dirs(config: Any, root: Path) -> Any:
    if isinstance(config, dict):
        return {
            key: str(root / value)
            if key == "base_dir" and isinstance(value, str) and not os.path.isabs(value)
            else _absolute_base_dirs(value, root)
            for key, value in config.items()
        }
    return config


def project_instance(root: Path = PROJECT_ROOT) -> dg.DagsterInstance:
    """The instance ``make ui`` and ``make demo`` use (storage under ``<root>/.dagster``).

    With ``DAGSTER_HOME`` set elsewhere, that instance is used instead.
    """
    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home).resolve() != root.resolve():
        return dg.DagsterInstance.get()
    config = yaml.safe_load((root / "dagster.yaml").read_text()) or {}
    overrides = _absolute_base_dirs(config, root)
    ref = InstanceRef.from_dir(str(root), overrides=overrides)
    return dg.DagsterInstance.from_ref(ref)
