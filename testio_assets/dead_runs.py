"""Runs whose worker process died: found, marked failed, and their pool slots freed.

A run killed mid-step (SIGKILL, a crash, a closed laptop) stays STARTED and keeps its slot in
the ``duckdb_writer`` pool, so every later run waits forever on "Step blocked by limit for
pool". Under ``make ui`` Dagster's run monitoring frees the slots of runs that ended (see
dagster.yaml), and the code server fails a run whose worker process exits; nothing does either
for a run executed in-process (``make demo``, a script, the CLI) whose process is gone.

So every run records its worker (:data:`WORKER_TAG`: host, PID and the process's start time,
which tells a reused PID from the original) and :func:`sweep_dead_runs` fails the runs whose
worker is verifiably gone on this host and frees their slots (and frees slots still held by
runs that already ended). It runs before ``make demo`` starts and, under ``make ui``, in the
``dead_run_sweeper`` sensor. A run whose worker it cannot check (another host, no tag) is left
alone and reported.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import dagster as dg
import psutil
from dagster._core.storage.dagster_run import RunsFilter

WORKER_TAG = "testio/worker"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# A process's start time is known to the kernel's clock tick; a reused PID starts much later.
_SAME_PROCESS_WITHIN_S = 1.0


@cache
def worker_tags() -> Mapping[str, str]:
    """The tag naming this process as a run's worker: ``host|pid|process start time``."""
    started = psutil.Process(os.getpid()).create_time()
    return {WORKER_TAG: f"{socket.gethostname()}|{os.getpid()}|{started:.2f}"}


def worker_alive(tag: str | None) -> bool | None:
    """True or False for a worker on this host; None when it cannot be told (no tag, another
    host)."""
    try:
        host, pid_text, started_text = (tag or "").split("|")
        pid, started = int(pid_text), float(started_text)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - started) > _SAME_PROCESS_WITHIN_S:
            return False  # the PID now belongs to another process
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def record_worker(instance: dg.DagsterInstance, run: dg.DagsterRun | None) -> None:
    """Tag ``run`` with this process as its worker, unless it already names one."""
    if run is not None and WORKER_TAG not in run.tags:
        instance.add_run_tags(run.run_id, worker_tags())


@dataclass(frozen=True)
class SweptRun:
    run_id: str
    action: str  # "failed": worker gone, run failed, slots freed; "freed": ended run's slots;
    #              "running": worker alive, holding slots; "unknown": cannot tell
    detail: str

    def describe(self) -> str:
        return f"run {self.run_id}: {self.detail}"


def _age(run_start: float | None) -> str:
    if run_start is None:
        return "not started"
    minutes = (time.time() - run_start) / 60
    return f"started {minutes:.0f} min ago"


def sweep_dead_runs(instance: dg.DagsterInstance) -> list[SweptRun]:
    """Fail the in-progress runs whose worker is gone and free their pool slots; free the
    slots ended runs still hold; report runs holding slots that are alive or cannot be told."""
    storage = instance.event_log_storage
    holding = (
        set(storage.get_concurrency_run_ids())
        if storage.supports_global_concurrency_limits else set()
    )
    records = {
        r.dagster_run.run_id: r
        for r in instance.get_run_records(RunsFilter(statuses=IN_PROGRESS))
    }
    extra = [run_id for run_id in holding if run_id not in records]
    if extra:
        records.update(
            (r.dagster_run.run_id, r) for r in instance.get_run_records(RunsFilter(run_ids=extra))
        )
    swept = []
    for run_id, record in sorted(records.items()):
        run = record.dagster_run
        if run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            swept.append(SweptRun(run_id, "freed", f"ended {run.status.value} but still held "
                                  "pool slots: freed them"))
            continue
        tag = run.tags.get(WORKER_TAG)
        alive = worker_alive(tag)
        if alive is False:
            pid = tag.split("|")[1]
            message = (
                f"The worker process of this run (PID {pid} on this host) is gone, killed or "
                "crashed: marked failed and its pool slots freed so later runs can proceed."
            )
            instance.report_run_failed(run, message)
            storage.free_concurrency_slots_for_run(run_id)
            swept.append(SweptRun(run_id, "failed", f"{_age(record.start_time)}; its process "
                                  f"(PID {pid}) is gone: marked failed, pool slots freed"))
        elif run_id in holding:
            if alive:
                detail = f"{_age(record.start_time)}, still running (PID {tag.split('|')[1]}): waiting for it"
                swept.append(SweptRun(run_id, "running", detail))
            else:
                swept.append(SweptRun(run_id, "unknown", (
                    f"{_age(record.start_time)}, holds pool slots and its worker cannot be "
                    "checked from here; if it is not running, terminate it in the UI (Runs) "
                    "or let run monitoring under `make ui` end it"
                )))
    return swept


@dg.sensor(
    name="dead_run_sweeper",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails runs whose worker process is gone (e.g. a killed `make demo`) and frees "
    "the pool slots they hold, so later runs are not blocked forever.",
)
def dead_run_sweeper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    acted = [s for s in sweep_dead_runs(context.instance) if s.action in ("failed", "freed")]
    for swept in acted:
        context.log.warning(swept.describe())
    return dg.SkipReason(
        "; ".join(s.describe() for s in acted) if acted else "no run holds a slot it should not"
    )
