"""The short summary ``make demo`` prints after a run: tables, API calls, metric tables (the
saved queries' resolved dates and exports), checks, freshness.

A failed run says which step failed and why in one line (the error the step's own code raised,
not Dagster's wrapper or a stack trace), counts the API calls made before the failure (a failed
fetch carries them as metadata of its Failure), lists the assets that were not run, and ends
with what to do instead of the next steps of a good run.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from testio_assets.freshness_state import evaluate_freshness


def _metadata_value(metadata: dict[str, Any], key: str) -> Any:
    value = metadata.get(key)
    return getattr(value, "value", value)


def materialization_rows(
    result: dg.ExecuteInProcessResult,
) -> list[tuple[str, str | None, int | None, int | None]]:
    """(asset, step, rows, API calls) for every asset the run materialised.

    The assets of a multi-asset share one fetch, so they report the same calls for one step.
    """
    rows = []
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = dict(materialization.metadata)
        rows.append(
            (
                materialization.asset_key.to_user_string(),
                event.step_key,
                _metadata_value(metadata, "dagster/row_count"),
                _metadata_value(metadata, "api_calls"),
            )
        )
    return rows


def metric_rows(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, list[str]]]:
    """(table, resolved dates, export paths) for every saved query the run materialised."""
    rows = []
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = dict(materialization.metadata)
        if "date_range" in metadata:
            exports = [str(_metadata_value(metadata, k)) for k in sorted(metadata) if k.startswith("export/")]
            rows.append((str(_metadata_value(metadata, "dagster/table_name")),
                         str(_metadata_value(metadata, "date_range")), exports))
    return rows


def check_outcomes(result: dg.ExecuteInProcessResult) -> list[tuple[str, bool, str]]:
    """(check, passed, severity) for every check the run evaluated."""
    outcomes = []
    for event in result.all_events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.event_specific_data
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        outcomes.append((name, evaluation.passed, evaluation.severity.value))
    return sorted(outcomes)


def step_errors(result: dg.ExecuteInProcessResult) -> dict[str, SerializableErrorInfo]:
    """step -> the error each failed step's own code raised (with its cause and next step), not
    Dagster's wrapper around it (DagsterExecutionStepExecutionError)."""
    errors = {}
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data is None:
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and error.cls_name.startswith("Dagster"):
            error = error.cause
        if error is not None:
            errors[event.step_key or "?"] = error
    return errors


def step_failures(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(step, message) of every failed step, as :func:`step_errors` finds them, in one line."""
    return [(step, _short_class(error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name))
            for step, error in step_errors(result).items()]


def _short_class(message: str) -> str:
    """``semantic.errors.WarehouseLockedError: ...`` -> ``WarehouseLockedError: ...``; a
    ``dagster.Failure``'s description is written for people and stands alone.

    >>> _short_class("dagster._core.definitions.events.Failure: TestIOAuthError (x): the API rejected the token")
    'TestIOAuthError (x): the API rejected the token'
    """
    head, sep, rest = message.partition(": ")
    if sep and " " not in head:
        return rest if head.rpartition(".")[2] == "Failure" else f"{head.rpartition('.')[2]}: {rest}"
    return message


def failed_step_calls(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """step -> API calls a failed step made before failing (its Failure's ``api_calls``)."""
    calls = {}
    for event in result.all_events:
        data = event.step_failure_data if event.is_step_failure else None
        if data is not None and data.user_failure_data is not None:
            value = _metadata_value(dict(data.user_failure_data.metadata), "api_calls")
            if value is not None:
                calls[event.step_key or "?"] = int(value)
    return calls


def _print_failure(result: dg.ExecuteInProcessResult, not_run: list[str]) -> None:
    for step, message in step_failures(result):
        print(f"\nFAILED step {step}: {message}")
    if not_run:
        print(f"Not run, as they depend on a failed step: {', '.join(not_run)}")


def _print_next_steps(result: dg.ExecuteInProcessResult, elapsed_s: float) -> None:
    if result.success:
        print(f"\nDone in {elapsed_s:.1f} s. Next: `make ui` (http://127.0.0.1:3000) to watch the assets;")
        print("ask questions from Python: from semantic import query_metrics; "
              "query_metrics(['bugs_per_test'], ['month']).df")
        print("or a saved query by name: query_metrics(saved_query='critical_bugs_by_feature_this_quarter'); "
              "`testio-semantic list saved-queries`")
        return
    print(f"\nFailed after {elapsed_s:.1f} s. Fix the cause named above, then run `make demo` again; "
          f"`make ui` (http://127.0.0.1:3000) shows this run's full log (run {result.run_id}).")


def print_run_summary(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    result: dg.ExecuteInProcessResult,
    *,
    elapsed_s: float,
) -> None:
    print()
    warehouse = defs.resources["warehouse"]
    print(f"Warehouse: {warehouse.describe()}  (run {result.run_id}, {'succeeded' if result.success else 'FAILED'})")
    rows_materialized = materialization_rows(result)
    width = max([16, *(len(asset) + 2 for asset, *_ in rows_materialized)])
    print(f"{'asset':<{width}}{'rows':>10}{'API calls':>12}")
    calls_by_step: dict[str | None, int] = {}
    materialized = set()
    for asset, step, rows, calls in rows_materialized:
        calls_by_step[step] = calls or 0
        materialized.add(asset)
        print(f"{asset:<{width}}{rows if rows is not None else '-':>10}{calls if calls is not None else '-':>12}")
    failed = {step: failed_step_calls(result).get(step) for step in step_errors(result)}
    for step, calls in failed.items():
        calls_by_step[step] = calls or 0
        print(f"{step:<{width}}{'failed':>10}{calls if calls is not None else '-':>12}")
    print(f"{'total':<{width}}{'':>10}{sum(calls_by_step.values()):>12}")

    metrics = metric_rows(result)
    if metrics:
        print("\nMetric tables (saved queries; dates resolved today, UTC):")
        for table, dates, exports in metrics:
            print(f"  {table}: {dates}")
            for path in exports:
                print(f"    exported to {path}")

    graph = defs.resolve_asset_graph()
    names = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    if not result.success:
        # A step is named after its op: metrics__x for the asset metrics/x, one step for a multi-asset.
        failed_assets = {key.to_user_string() for assets in graph.assets_defs
                         if assets.node_def.name in failed for key in assets.keys}
        _print_failure(result, [name for name in names if name not in materialized and name not in failed_assets])

    outcomes = check_outcomes(result)
    not_passed = [(name, severity) for name, passed, severity in outcomes if not passed]
    warnings = sum(severity == "WARN" for _, severity in not_passed)
    print(
        f"\nChecks: {len(outcomes) - len(not_passed)} passed, {warnings} warning(s), "
        f"{len(not_passed) - warnings} failed"
    )
    for name, severity in not_passed:
        print(f"  {severity:<5} {name}")

    freshness = evaluate_freshness(instance, names)
    print("\nFreshness (policy, state):")
    for name, item in freshness.items():
        policy = item.windows.describe() if item.windows else "no policy"
        print(f"  {name:<{width}}{item.state:<14}{policy}")
    _print_next_steps(result, elapsed_s)
