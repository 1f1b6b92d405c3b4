"""``make demo``: materialise every asset, run the checks, print what was built.

Runs against the real API when ``TESTIO_CUSTOMER_API_TOKEN`` is set (in the environment or
the project folder's ``.env``), else the built-in simulator. Runs are stored in the same
instance ``make ui`` shows (``DAGSTER_HOME``'s when set, else ``.dagster/``), so the UI opens
on the demo's materialisations, checks and freshness.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from semantic.project import ENV_FILE, load_project_env
from testio_assets.instance import (
    DAGSTER_HOME_ENV,
    InstanceConfigError,
    check_instance_config,
    dagster_home,
    describe,
    instance_config,
    project_folder,
)


def _prepare_environment() -> str:
    """Read the project's .env (variables already set win), select the instance ``make ui``
    uses (DAGSTER_HOME's when set, else dagster.yaml in the project folder with storage in
    .dagster/), check it, and say which it is."""
    root = project_folder()
    lines = []
    if (root / ENV_FILE).is_file():
        loaded = load_project_env(root)
        lines.append(f"Read {root / ENV_FILE}: " + (", ".join(loaded) if loaded else
                     "nothing new (every variable in it is already set, and the environment wins)"))
    home = dagster_home(root)
    config = instance_config(home)
    lines.append(describe(home, config))
    check_instance_config(config)
    os.environ[DAGSTER_HOME_ENV] = str(home)
    os.chdir(root)
    (root / ".dagster").mkdir(exist_ok=True)
    return "\n".join(lines)


class _ProgressLines(logging.Handler):
    """The run's own progress on stderr, one short line each (``step: message``). Dagster's
    events are left out: a step failure's stack trace and the "Not executing" line of every step
    after it would bury the summary, which names the failed step and its cause in one line
    (the UI keeps the full log)."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        message = str(meta.get("orig_message", record.getMessage()))
        if meta.get("dagster_event") is not None or message.endswith("Not executing."):
            return
        print(f"  {meta.get('step_key') or 'run'}: {message.splitlines()[0] if message else ''}", file=sys.stderr,
              flush=True)


def _console_logger():
    import dagster as dg

    @dg.logger(description="make demo's console: the run's own progress lines, no Dagster events")
    def progress_console(_init_context) -> logging.Logger:
        logger = logging.Logger("testio_assets.demo", level=logging.INFO)
        logger.addHandler(_ProgressLines())
        return logger

    return progress_console


def main() -> int:
    try:
        print(_prepare_environment(), flush=True)
    except InstanceConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    import dagster as dg

    from testio_assets.client.errors import TestIOConfigError
    from testio_assets.dead_runs import sweep_dead_runs, worker_tags
    from testio_assets.definitions import build_api_resource, build_definitions
    from testio_assets.ops_summary import print_run_summary

    api = build_api_resource()
    defs = build_definitions(api=api)
    try:
        source = api.source_description()
    except TestIOConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    instance = dg.DagsterInstance.get()
    # A run killed earlier (kill -9, a crash) would hold the writer slot forever.
    for swept in sweep_dead_runs(instance):
        print(f"Earlier {swept.describe()}", flush=True)
    print(f"Materialising every TestIO asset from {source} ...", flush=True)
    job = defs.resolve_implicit_global_asset_job_def().with_logger_defs({"console": _console_logger()})
    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=worker_tags(),
                                    run_config={"loggers": {"console": {}}})
    print_run_summary(defs, instance, result, elapsed_s=time.perf_counter() - started)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
