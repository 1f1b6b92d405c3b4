"""The fault table: how each failure an operator meets ends, tried many times.

For every scenario: how many were tried, how many ended with nothing lost (the warehouse and
its read copy hold either the previous version or the right new one, and readers can still
answer) and, when the run could not succeed, a clear typed message; and what was lost or
unclear otherwise. Everything is real: Dagster runs, DuckDB files, the simulator over HTTP
where it matters, `python -m testio_assets.demo` processes killed with SIGKILL.

- transient faults (429 with Retry-After, 5xx, timeouts, malformed bodies) over seeded runs;
- SIGKILL of `make demo` inside each step (an endpoint that hangs) and at varied moments,
  then `make demo` again;
- each plausible-but-wrong body (an empty envelope, one stub row) per endpoint, under
  incremental and full refresh, and each endpoint hanging;
- the warehouse locked by another process;
- a damaged or foreign warehouse file, for the writer and for readers;
- a full disk: a file-size limit at several sizes, and a real small tmpfs where this machine
  lets the script mount one.

Bad query arguments and mutated model files have their own script
(``benchmarks/fault_inputs.py``, ``make bench-inputs``); the table names them last.

Run: ``python benchmarks/fault_table.py [--seeds 10] [--timed-kills 6]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import yaml
from _harness import load_average, stop_on_signals, stop_process

from semantic import query_metrics
from semantic.errors import SemanticError
from testio_assets.assets import ingestion_assets
from testio_assets.checks import ingestion_checks
from testio_assets.client.resource import TestIOApiResource
from testio_assets.instance import _absolute_base_dirs
from testio_assets.ops_summary import step_errors
from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource
from testio_assets.warehouse.schema import TABLES

ROOT = Path(__file__).resolve().parent.parent
DATA_TABLES = ("products", "features", "tests", "test_features", "test_platforms", "bugs", "users")
FAST = {"backoff_base_s": 0.01, "timeout_s": 0.3, "max_attempts": 3, "retry_budget_s": 30.0}
FULL = {"ops": {op: {"config": {"full_refresh": True}} for op in ("exploratory_tests", "bugs")}}
TOKEN = "fault-table-token"
# Rows measured by benchmarks/fault_inputs.py (make bench-inputs), by the thousand.
ROWS_ADDED_ELSEWHERE = ("bad query arguments", "mutated model files")


@dataclass
class Row:
    scenario: str
    tried: int = 0
    fine: int = 0
    problems: list[str] = field(default_factory=list)

    def record(self, problem: str | None) -> None:
        self.tried += 1
        if problem is None:
            self.fine += 1
        else:
            self.problems.append(problem)


# Real runs against real files ----------------------------------------------------------------


def make_sim(seed: int = 7, faults: FaultConfig | None = None, **kwargs) -> Simulator:
    return Simulator(SimulatorConfig.preset("tiny", seed=seed), faults=faults, **kwargs)


QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def materialize(api, database: Path, run_config=None, **warehouse) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets, *ingestion_checks],
        resources={"testio_api": api, "warehouse": WarehouseResource(database=str(database), **warehouse)},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={**QUIET, **(run_config or {})},
        raise_on_error=False,
    )


def rows(database: Path) -> dict[str, list[tuple]] | str:
    """Every data table's rows, or why they cannot be read."""
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            return {
                name: con.execute(
                    f"SELECT * FROM {name} ORDER BY {', '.join(TABLES[name].primary_key)}"
                ).fetchall()
                for name in DATA_TABLES
            }
    except duckdb.Error as exc:
        return f"unreadable: {exc}".splitlines()[0]


def copy_of(database: Path) -> Path:
    return WarehouseResource(database=str(database)).read_copy


def failures(result: dg.ExecuteInJobResult) -> dict[str, tuple[str, str]]:
    return {step: (error.cls_name, error.message) for step, error in step_errors(result).items()}


def lost_between(before, after, what: str) -> str | None:
    """What ``after`` lacks of ``before`` (rows per table), or None when they are equal."""
    if isinstance(after, str):
        return f"{what} {after}"
    if before == after:
        return None
    changed = [
        f"{t} {len(before[t])}->{len(after[t])}" for t in DATA_TABLES if before[t] != after[t]
    ]
    return f"{what} changed: {', '.join(changed)}"


def judge(result, before, database: Path, *, expected_errors: set[str], reference=None) -> str | None:
    """None when the run ended with nothing lost: on success the right data (``reference``),
    on failure the previous version and a typed error of ``expected_errors``."""
    if result.success:
        if reference is None:
            return "succeeded where it should have refused"
        return lost_between(reference, rows(database), "warehouse")
    found = failures(result)
    unclear = [f"{step}: {cls}" for step, (cls, _) in found.items() if cls not in expected_errors]
    if unclear:
        return "unclear error " + "; ".join(unclear)
    if before is None:  # a first load: nothing was stored to lose
        return None
    return lost_between(before, rows(database), "warehouse") or lost_between(
        before, rows(copy_of(database)), "read copy"
    )


@contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def built_warehouse(directory: Path, sim: Simulator | TestIOApiResource) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "testio.duckdb"
    api = sim if isinstance(sim, TestIOApiResource) else SimulatorApiResource.serving(sim)
    result = materialize(api, database)
    if not result.success:
        raise SystemExit(f"could not build a warehouse: {failures(result)}")
    return database


# Scenarios ------------------------------------------------------------------------------------


def transient_faults(seeds: int) -> Row:
    row = Row(f"transient faults (429, 5xx, timeouts, malformed), {seeds} seeded full syncs")
    faults = dict(transient_error_probability=0.1, rate_limit_probability=0.1, retry_after_s=0,
                  timeout_probability=0.05, timeout_delay_s=1.0, malformed_probability=0.1)
    converged = 0
    for seed in range(1, seeds + 1):
        with workdir() as d:
            reference = rows(built_warehouse(d / "clean", make_sim(seed)))
            database = d / "faulty.duckdb"
            # The client's default attempts and budget; only the waits are short.
            api = SimulatorApiResource.serving(
                make_sim(seed, FaultConfig(**faults)), backoff_base_s=0.01, timeout_s=0.3
            )
            result = materialize(api, database)
            row.record(judge(result, None, database, expected_errors={"Failure"}, reference=reference))
            converged += result.success
    row.scenario += f" ({converged} converged on the fault-free tables, the rest failed clearly)"
    return row


WRONG = {
    "products": {"products"},
    "features": {"features", "section_features"},
    "exploratory_tests": {"exploratory_tests"},
    "bugs": {"bugs"},
}
REFUSALS = {"DataLossError", "InvalidRecordError", "Failure"}


def wrong_bodies() -> list[Row]:
    out = []
    for kind in ("empty", "stub"):
        for mode in ("incremental", "full"):
            row = Row(f"`{kind}` bodies ({', '.join(WRONG)}), {mode} refresh")
            for endpoint, names in WRONG.items():
                with workdir() as d:
                    database = built_warehouse(d, make_sim())
                    before = rows(database)
                    sim = make_sim(faults=FaultConfig(wrong_bodies={n: kind for n in names}))
                    result = materialize(SimulatorApiResource.serving(sim, **FAST), database,
                                         run_config=FULL if mode == "full" else None)
                    problem = judge(result, before, database, expected_errors=REFUSALS)
                    row.record(f"{endpoint}: {problem}" if problem else None)
            out.append(row)
    return out


def hanging_endpoints() -> Row:
    row = Row("an endpoint that never answers (each of products, features, tests, bugs)")
    for names in WRONG.values():
        with workdir() as d:
            database = built_warehouse(d, make_sim())
            before = rows(database)
            sim = make_sim(faults=FaultConfig(hang_endpoints=names))
            result = materialize(SimulatorApiResource.serving(sim, **FAST), database)
            if "exploratory_tests" in names:
                # Pages that never answer are recovered and recorded: a red check, stored tests kept.
                checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
                problem = lost_between(before, rows(database), "warehouse")
                if problem is None and checks.get("tests_unrecoverable_pages") is not False:
                    problem = "unread pages not reported"
            else:
                problem = judge(result, before, database, expected_errors={"Failure"})
            row.record(problem)
    return row


def demo_environment(home: Path, base_url: str) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    (home / "dagster.yaml").write_text(yaml.safe_dump(_absolute_base_dirs(config, home)))
    return {**os.environ, "DAGSTER_HOME": str(home), "TESTIO_WAREHOUSE_PATH": str(home / "testio.duckdb"),
            "TESTIO_CUSTOMER_API_TOKEN": TOKEN, "TESTIO_CUSTOMER_API_BASE_URL": base_url}


def kills(timed: int) -> Row:
    row = Row(f"kill -9 of `make demo` inside each step ({len(WRONG)}) and at {timed} moments, then `make demo`")
    sim = make_sim(token=TOKEN)
    with workdir() as d, sim.serve() as base_url:
        reference = rows(built_warehouse(d, TestIOApiResource(token=TOKEN, base_url=base_url)))
        plans: list[tuple[str, Callable[[subprocess.Popen], None]]] = []
        for names in WRONG.values():
            def wait_hung(demo, names=names):
                sim.faults = FaultConfig(hang_endpoints=names)
                hung = sim.hung_requests
                deadline = time.monotonic() + 120
                while sim.hung_requests == hung and demo.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.02)
            plans.append((f"inside {sorted(names)[0]}", wait_hung))
        for i in range(timed):
            delay = 1.0 + i * 0.75
            plans.append((f"after {delay:.2f} s", lambda demo, delay=delay: time.sleep(delay)))
        for label, wait in plans:
            home = d / f"home-{len(row.problems)}-{row.tried}"
            home.mkdir()
            env = demo_environment(home, base_url)
            sim.faults = FaultConfig(latency_s=0.01)
            demo = subprocess.Popen([sys.executable, "-m", "testio_assets.demo"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait(demo)
            finally:
                os.kill(demo.pid, signal.SIGKILL)
                demo.wait()
            sim.faults = FaultConfig()
            try:
                again = subprocess.run([sys.executable, "-m", "testio_assets.demo"], cwd=ROOT, env=env,
                                       capture_output=True, text=True, timeout=240)
            except subprocess.TimeoutExpired:
                row.record(f"{label}: the next `make demo` waited > 240 s (wedged)")
                continue
            problem = None
            if again.returncode != 0:
                problem = f"next demo failed: {again.stdout[-300:]}"
            else:
                database = home / "testio.duckdb"
                problem = lost_between(reference, rows(database), "warehouse") or lost_between(
                    reference, rows(copy_of(database)), "read copy")
            row.record(f"{label}: {problem}" if problem else None)
    return row


HOLD = "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=sys.argv[2]=='ro'); print('ok', flush=True); sys.stdin.read()"


def lock() -> Row:
    row = Row("warehouse held by another process (a notebook read-only, another writer), default 10 s wait")
    for mode in ("ro", "rw", "ro"):
        with workdir() as d:
            database = built_warehouse(d, make_sim())
            before = rows(database)
            holder = subprocess.Popen([sys.executable, "-c", HOLD, str(database), mode],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                holder.stdout.readline()
                started = time.monotonic()
                result = materialize(SimulatorApiResource.serving(make_sim()), database)
                waited = time.monotonic() - started
            finally:
                holder.stdin.close()  # the holder exits at the end of its input
                stop_process(holder)
            problem = judge(result, before, database, expected_errors={"WarehouseLockedError"})
            message = failures(result).get("products", ("", ""))[1]
            if problem is None and f"PID {holder.pid}" not in message:
                problem = "the message does not name the holder"
            row.record(problem or (None if waited < 30 else f"reported after {waited:.0f} s"))
    return row


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "foreign (CSV text)":
        path.write_text("product_id,name\n1,a csv file\n")
    elif how == "zero bytes":
        path.write_bytes(b"")
    elif how == "truncated to half":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "header overwritten":
        data[:4096] = b"\0" * 4096
        path.write_bytes(bytes(data))
    elif how == "a data block overwritten":
        middle = len(data) // 2
        data[middle : middle + 16384] = b"\xff" * 16384
        path.write_bytes(bytes(data))


DAMAGE = ("foreign (CSV text)", "zero bytes", "truncated to half", "header overwritten", "a data block overwritten")


def corruption() -> list[Row]:
    writer = Row(f"damaged main file, then a run ({len(DAMAGE)} kinds of damage)")
    reader = Row(f"damaged read copy, then a query ({len(DAMAGE)} kinds of damage)")
    sim = make_sim()
    for how in DAMAGE:
        with workdir() as d:
            database = built_warehouse(d, sim)
            reference = rows(database)
            copy_before = rows(copy_of(database))
            _damage(database, how)
            result = materialize(SimulatorApiResource.serving(sim), database)
            if result.success:  # the damage fell where the run rewrote: the right data again
                problem = lost_between(reference, rows(database), "warehouse")
            else:
                found = failures(result)
                classes = {cls for cls, _ in found.values()}
                problem = None if classes <= {"WarehouseCorruptError"} else f"unclear {classes}"
                if problem is None and not all("make demo" in m for _, m in found.values()):
                    problem = "no way back in the message"
                problem = problem or lost_between(copy_before, rows(copy_of(database)), "read copy")
            writer.record(f"{how}: {problem}" if problem else None)

            database = built_warehouse(d / "reader", sim)
            _damage(copy_of(database), how)
            try:
                answer = query_metrics(["bug_count"], warehouse=str(database))
                problem = None if int(answer.df["bug_count"][0]) == len(reference["bugs"]) else "wrong answer"
            except SemanticError as exc:
                problem = None if type(exc).__name__ == "WarehouseCorruptError" and "delete it" in str(exc) \
                    else f"unclear {type(exc).__name__}: {exc}"
            except Exception as exc:  # noqa: BLE001 - anything else is what the table reports
                problem = f"raw {type(exc).__name__}: {exc}"
            reader.record(f"{how}: {problem}" if problem else None)
    return [writer, reader]


PUBLISH_ON_FULL_DISK = """
import json, resource, signal, sys
from testio_assets.warehouse.resource import WarehouseResource
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
try:
    WarehouseResource(database=sys.argv[1]).publish()
    print(json.dumps({"success": True, "errors": []}))
except Exception as exc:
    print(json.dumps({"success": False, "errors": [[type(exc).__name__, str(exc)]]}))
"""

FULL_DISK = """
import json, resource, signal, sys
import dagster as dg
from testio_assets.assets import ingestion_assets
from testio_assets.checks import ingestion_checks
from testio_assets.ops_summary import step_errors
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource
from testio_assets.warehouse.resource import WarehouseResource
database, limit = sys.argv[1], int(sys.argv[2])
api = SimulatorApiResource.serving(Simulator(SimulatorConfig.preset("tiny", seed=7)))
dg.DagsterInstance.ephemeral()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
result = dg.materialize([*ingestion_assets, *ingestion_checks], instance=dg.DagsterInstance.ephemeral(),
    resources={"testio_api": api, "warehouse": WarehouseResource(database=database)},
    run_config={"ops": {op: {"config": {"full_refresh": True}} for op in ("exploratory_tests", "bugs")}},
    raise_on_error=False)
errors = [[e.cls_name, e.message] for e in step_errors(result).values()]
print(json.dumps({"success": result.success, "errors": errors}))
"""


def full_disk() -> Row:
    row = Row("full disk: a file-size limit at 6 sizes during a full refresh and 2 during a "
              "publication, and a real tmpfs with 256 KB to spare when mountable")
    sim = make_sim()
    for limit_kb in (16, 64, 256, 1024, 1536, 2048):
        with workdir() as d:
            database = built_warehouse(d, sim)
            before = rows(database)
            done = subprocess.run([sys.executable, "-c", FULL_DISK, str(database), str(limit_kb * 1024)],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            report = json.loads(done.stdout.strip().splitlines()[-1])
            problem = _disk_problem(report, before, database)
            row.record(f"{limit_kb} KB: {problem}" if problem else None)
    for share in (0.25, 0.75):  # publishing the read copy, cut off part way
        with workdir() as d:
            database = built_warehouse(d, sim)
            before = rows(database)
            limit = int(database.stat().st_size * share)
            done = subprocess.run([sys.executable, "-c", PUBLISH_ON_FULL_DISK, str(database), str(limit)],
                                  cwd=ROOT, capture_output=True, text=True, timeout=120)
            problem = _disk_problem(json.loads(done.stdout.strip().splitlines()[-1]), before, database)
            row.record(f"publish at {share:.0%}: {problem}" if problem else None)
    with workdir() as d:
        database = built_warehouse(d, sim)
        before = rows(database)
        # Room for the warehouse and its copy, and 256 KB more: a full refresh runs out.
        room_kb = (database.stat().st_size + copy_of(database).stat().st_size) // 1024 + 256
        with _tmpfs(d / "small", f"{room_kb}k") as mounted:
            if mounted is None:
                row.scenario += " (tmpfs: not permitted here)"
                return row
            problem = _on_full_tmpfs(database, mounted, before)
            row.record(f"tmpfs: {problem}" if problem else None)
    return row


def _on_full_tmpfs(database: Path, mounted: Path, before) -> str | None:
    for name in (database.name, copy_of(database).name):
        shutil.copyfile(database.with_name(name), mounted / name)
    target = mounted / database.name
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(target), str(1 << 40)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    return _disk_problem(json.loads(done.stdout.strip().splitlines()[-1]), before, target)


def _disk_problem(report: dict, before, database: Path) -> str | None:
    if report["success"]:
        return lost_between(before, rows(database), "warehouse")  # it fitted: same customer, same rows
    unclear = [cls for cls, message in report["errors"]
               if cls != "WarehouseDiskFullError" or "no transaction is active" in message]
    if unclear:
        return f"unclear {unclear}"
    if list(database.parent.glob("*.tmp")):
        return "partial read copy left behind"
    return lost_between(before, rows(database), "warehouse") or lost_between(
        before, rows(copy_of(database)), "read copy")


@contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path | None]:
    path.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    ).returncode == 0
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", str(path)], check=False)


def print_table(rows_: list[Row], elapsed: float) -> None:
    print("\n| scenario | tried | nothing lost, clear message | lost or unclear otherwise |")
    print("|---|---|---|---|")
    for row in rows_:
        other = "; ".join(dict.fromkeys(row.problems)) or "-"
        print(f"| {row.scenario} | {row.tried} | {row.fine} | {other} |")
    for name in ROWS_ADDED_ELSEWHERE:
        print(f"| {name} | see `make bench-inputs` | | |")
    print(f"\n{sum(r.tried for r in rows_)} tries in {elapsed:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeded runs with transient faults")
    parser.add_argument("--timed-kills", type=int, default=6, help="kills at varied moments")
    args = parser.parse_args()
    stop_on_signals()
    print(load_average(), flush=True)
    started = time.perf_counter()
    table: list[Row] = []
    for scenario in (
        lambda: [transient_faults(args.seeds)],
        lambda: [kills(args.timed_kills)],
        wrong_bodies,
        lambda: [hanging_endpoints()],
        lambda: [lock()],
        corruption,
        lambda: [full_disk()],
    ):
        for row in scenario():
            table.append(row)
            print(f"{row.scenario}: {row.fine}/{row.tried}", flush=True)
    print_table(table, time.perf_counter() - started)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
