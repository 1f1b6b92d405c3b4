"""Bad input by the thousand: hostile arguments to the query API and mutated model files.

For each argument of ``query_metrics``: values certainly wrong for it (inside an otherwise valid
query) must end in a typed error naming the argument; valid queries must be answered; any
value for any argument must end in an answer or a typed error. For each kind of model-file
mutation: the loader (checked against a warehouse) must refuse it at file:line, or load a model
meaning the same where the mutation only changes form; where either is legitimate (a deleted
line, a truncated file) it must still never raise anything but ModelValidationError.
The values come from the same strategies and mutator as the property tests
(``tests/semantic/argument_values.py``, ``tests/semantic/model_mutations.py``), seeded.

Run: .venv/bin/python benchmarks/fault_inputs.py [--tries 200] [--mutations 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "semantic")]

import duckdb  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from argument_values import ANY, ARGUMENTS, NAMED_BY, invalid, valid_query  # noqa: E402
from model_mutations import EXPECT, KINDS, fair, judge, meaning, mutate, write  # noqa: E402
from semantic import MetricResult, SemanticError, query_metrics  # noqa: E402
from semantic.model.loader import MODELS_DIR, load_model  # noqa: E402
from warehouse_fixtures import build_warehouse, golden_rows  # noqa: E402


def generate(strategy, tries: int, body) -> None:
    """Call ``body`` on ``tries`` values of ``strategy``, derandomized; ``body`` never raises."""
    @settings(max_examples=tries, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value):
        body(value)

    run()


def _crash(err: Exception) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0][:80] if str(err) else ''}"


def bad_arguments(tries: int, warehouses, missing: Path) -> list[tuple]:
    rows = []
    for argument in ARGUMENTS:
        seen: Counter = Counter()
        examples: dict[str, str] = {}

        def body(pair, argument=argument, seen=seen, examples=examples):
            query, wrong = pair
            try:
                query_metrics(**{**query, argument: wrong})
                outcome = "answered (wrong value accepted)"
                examples.setdefault(outcome, repr(wrong)[:60])
            except SemanticError as err:
                outcome = "typed, naming it" if NAMED_BY.get(argument, argument) in str(err) else "typed, not naming it"
                if outcome != "typed, naming it":
                    examples.setdefault(outcome, str(err)[:80])
            except Exception as err:  # noqa: BLE001 - what the figures count
                outcome = _crash(err)
            seen[outcome] += 1

        generate(st.tuples(valid_query(warehouses), invalid(argument, missing)), tries, body)
        rows.append((f"bad `{argument}`", seen, seen["typed, naming it"], examples))
    for label, strategy in (
        ("valid queries", valid_query(warehouses)),
        ("any value for any argument", st.tuples(valid_query(warehouses), st.fixed_dictionaries(
            {}, optional={a: ANY for a in ARGUMENTS if a not in ("warehouse", "model")})))):
        seen = Counter()
        examples = {}

        def body(value, label=label, seen=seen, examples=examples):
            query = value if label == "valid queries" else {**value[0], **value[1]}
            try:
                result = query_metrics(**query)
                outcome = "answered" if isinstance(result, MetricResult) else "answered with something else"
            except SemanticError as err:
                outcome = "typed error"
                examples.setdefault(outcome, str(err)[:80])
            except Exception as err:  # noqa: BLE001
                outcome = _crash(err)
            seen[outcome] += 1

        generate(strategy, tries * 3, body)
        good = seen["answered"] if label == "valid queries" else seen["answered"] + seen["typed error"]
        rows.append((label, seen, good, examples if label == "valid queries" else {}))
    return rows


def mutations(per_kind: int, seed: int, warehouse, folder: Path) -> list[tuple]:
    files = {p.name: p.read_bytes() for p in sorted(MODELS_DIR.glob("*.yaml"))}
    original = meaning(load_model())
    rng = random.Random(seed)
    rows, n = [], 0
    for kind in KINDS:
        seen: Counter = Counter()
        examples: dict[str, str] = {}
        for _ in range(per_kind):
            n += 1
            new, mutation = mutate(files, rng, kind)
            try:
                outcome, message = judge(mutation, write(folder / str(n), new), warehouse, original)
            except Exception as err:  # noqa: BLE001
                outcome, message = _crash(err), ""
            seen[outcome] += 1
            if not fair(kind, outcome):
                examples.setdefault(outcome, f"{mutation.detail} in {mutation.file}")
        rows.append((kind, seen, sum(v for k, v in seen.items() if fair(kind, k)), examples))
    return rows


def _otherwise(seen: Counter, good_keys: set[str], examples: dict) -> str:
    parts = [f"{v} {k}" + (f" (e.g. {examples[k]})" if k in examples else "")
             for k, v in seen.most_common() if k not in good_keys]
    return "; ".join(parts) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200, help="bad values per argument (x3 for the two mixed rows)")
    parser.add_argument("--mutations", type=int, default=60, help="mutations per kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_warehouse(folder / "golden.duckdb", **golden_rows())
        warehouses = [build_warehouse(duckdb.connect(), **golden_rows()), str(folder / "golden.duckdb")]
        argument_rows = bad_arguments(args.tries, warehouses, folder / "missing" / "none.duckdb")
        argument_s = time.perf_counter() - started
        mutation_rows = mutations(args.mutations, args.seed, build_warehouse(duckdb.connect()), folder / "models")
    total_s = time.perf_counter() - started

    print(f"Bad arguments to query_metrics ({argument_s:.0f} s)\n")
    print("| class | tried | typed error naming the problem, or the answer | otherwise |")
    print("|---|---|---|---|")
    for label, seen, good, examples in argument_rows:
        good_keys = {"typed, naming it"} if label.startswith("bad") else (
            {"answered"} if label == "valid queries" else {"answered", "typed error"})
        print(f"| {label} | {sum(seen.values()):,} | {good:,} | {_otherwise(seen, good_keys, examples)} |")
    print(f"\nMutated model files, loaded and checked against a warehouse ({total_s - argument_s:.0f} s)\n")
    print("| mutation | expected | tried | refused at file:line | loaded, same meaning | loaded, meaning changed "
          "| otherwise |")
    print("|---|---|---|---|---|---|---|")
    for kind, seen, _, examples in mutation_rows:
        expect = {"reject": "refused", "same": "same meaning", "any": "either"}[EXPECT[kind]]
        unfair = Counter({k: v for k, v in seen.items() if not fair(kind, k)})
        print(f"| {kind} | {expect} | {sum(seen.values()):,} | {seen['rejected']:,} | {seen['same']:,} | "
              f"{seen['changed']:,} | {_otherwise(unfair, set(), examples)} |")
    tried_args = sum(sum(seen.values()) for _, seen, _, _ in argument_rows)
    good_args = sum(good for _, _, good, _ in argument_rows)
    tried_models = sum(sum(seen.values()) for _, seen, _, _ in mutation_rows)
    good_models = sum(good for _, _, good, _ in mutation_rows)
    print(f"\narguments: {good_args:,} of {tried_args:,} as expected; model files: {good_models:,} of "
          f"{tried_models:,} as expected; {total_s:.0f} s")


if __name__ == "__main__":
    main()
