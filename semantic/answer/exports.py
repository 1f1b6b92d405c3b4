"""Answers written to files for a spreadsheet or a BI tool: CSV, Parquet or JSON.

Exports go to the exports directory: ``$TESTIO_EXPORTS_DIR``, else ``exports/`` beside the
warehouse file (``data/exports`` for the default ``data/testio.duckdb``). A file is written
beside its target and moved over it in one step, so a reader never sees half a file.

- CSV: a header row, ``,`` separated, NULL as an empty field, ``\\n`` line ends.
- Parquet: the answer's column types (counts int64, ratios double, labels string).
- JSON: a list of one object per row; floats exact, NULL as null.

>>> import pandas as pd, tempfile, pathlib
>>> scratch = tempfile.TemporaryDirectory()
>>> folder = pathlib.Path(scratch.name)
>>> frame = pd.DataFrame({"month": ["2025-01", None], "rate": [1 / 3, None]})
>>> print(write_export(frame, "csv", folder / "rates.csv").read_text(), end="")
month,rate
2025-01,0.3333333333333333
,
>>> write_export(frame, "json", folder / "rates.json").read_text()
'[{"month": "2025-01", "rate": 0.3333333333333333}, {"month": null, "rate": null}]'
>>> scratch.cleanup()
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from semantic.answer.result import json_rows
from semantic.errors import InvalidArgumentError, WarehouseNotFoundError
from semantic.project import DEFAULT_WAREHOUSE, project_root, warehouse_location
from semantic.model.spec import EXPORT_FORMATS

EXPORTS_DIR_ENV = "TESTIO_EXPORTS_DIR"


def exports_dir(warehouse=None) -> Path:
    """``$TESTIO_EXPORTS_DIR``, else ``exports/`` beside the warehouse file; for a server's
    warehouse (PostgreSQL, MotherDuck, a connection), ``data/exports`` in the project folder."""
    configured = os.environ.get(EXPORTS_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    location = warehouse_location(warehouse) if warehouse is None or isinstance(warehouse, (str, os.PathLike)) else None
    if location is not None and location.path is not None:
        return location.path.parent / "exports"
    root = project_root()
    if root is None:
        raise WarehouseNotFoundError(f"the warehouse is a server and no project folder is above {Path.cwd()}: "
                                     f"set {EXPORTS_DIR_ENV} to the folder exports go to")
    return root / DEFAULT_WAREHOUSE.parent / "exports"


def _write(frame: pd.DataFrame, fmt: str, path: Path) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False, lineterminator="\n")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        path.write_text(json.dumps(json_rows(frame), allow_nan=False), encoding="utf-8")


def write_export(frame: pd.DataFrame, fmt: str, path: str | os.PathLike) -> Path:
    """Write ``frame`` to ``path`` in format ``fmt`` (csv, parquet, json), atomically."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidArgumentError("format", f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    try:
        _write(frame, fmt, staging)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target
