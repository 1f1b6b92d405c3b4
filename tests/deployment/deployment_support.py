"""Helpers for the deployment tests: where the shipped files are, and opening an instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_YAML = PROJECT_ROOT / "testio_assets" / "deploy" / "dagster.postgres.yaml"


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance a Dagster process started with DAGSTER_HOME=home would load."""
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
