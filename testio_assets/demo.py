"""``make demo``: materialise every asset, run the checks, print what was built.

Runs against the real API when ``TESTIO_CUSTOMER_API_TOKEN`` is set, else the built-in
simulator. Runs are stored in the same instance ``make ui`` shows (``DAGSTER_HOME``'s when
set, else ``.dagster/``), so the UI opens on the demo's materialisations, checks and freshness.
"""

from __future__ import annotations

import os
import sys
import time

from testio_assets.instance import (
    DAGSTER_HOME_ENV,
    PROJECT_ROOT,
    InstanceConfigError,
    check_instance_config,
    dagster_home,
    describe,
    instance_config,
)


def _prepare_environment() -> str:
    """Select the instance ``make ui`` uses (DAGSTER_HOME's when set, else dagster.yaml at the
    project root with storage in .dagster/), check it, and say which it is."""
    home = dagster_home()
    config = instance_config(home)
    description = describe(home, config)
    check_instance_config(config)
    os.environ[DAGSTER_HOME_ENV] = str(home)
    os.chdir(PROJECT_ROOT)
    (PROJECT_ROOT / ".dagster").mkdir(exist_ok=True)
    return description


def main() -> int:
    try:
        print(_prepare_environment(), flush=True)
    except InstanceConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    import dagster as dg

    from testio_assets.definitions import build_api_resource, build_definitions
    from testio_assets.ops_summary import print_run_summary

    api = build_api_resource()
    defs = build_definitions(api=api)
    print(f"Materialising every TestIO asset from {api.source_description()} ...", flush=True)
    instance = dg.DagsterInstance.get()
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    print_run_summary(defs, instance, result, elapsed_s=time.perf_counter() - started)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
