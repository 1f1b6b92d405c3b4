"""Rejection reasons from TestIO's own default texts (the table in shared/testio-api.md).

The contract's texts live in ``fixtures/rejection_texts.json``, copied verbatim from the
contract; the ingestion's table and the simulator's are separate copies, so each is compared
with the fixture (neither side can agree with itself through a shared typo). Real-shaped bug
payloads in ``fixtures/rejected_bugs.json`` carry each text alone, between other comments,
re-typed and inside longer comments, next to free-text rejections that name no reason.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from testio_assets.ingestion.bug_bodies import BugBodyDecoder
from testio_assets.ingestion.normalize import normalize_bugs
from testio_assets.ingestion.rejections import DEFAULT_REJECTION_TEXTS
from testio_assets.simulator import REJECTION_COMMENTS, Simulator, SimulatorConfig
from testio_assets.warehouse.schema import REJECTION_REASONS

FIXTURES = Path(__file__).parent / "fixtures"
CONTRACT_TEXTS: dict[str, str] = json.loads((FIXTURES / "rejection_texts.json").read_text())["texts"]
CASES: list[dict] = json.loads((FIXTURES / "rejected_bugs.json").read_text())["cases"]


def test_the_contract_texts_are_the_ingestion_and_simulator_texts():
    assert set(CONTRACT_TEXTS) == set(REJECTION_REASONS)
    assert DEFAULT_REJECTION_TEXTS == CONTRACT_TEXTS
    assert REJECTION_COMMENTS == CONTRACT_TEXTS
    # The contract writes this one without a final period; so must both copies.
    assert CONTRACT_TEXTS["request_timeout"].endswith("within 24 hours")


def test_the_fixture_covers_every_reason_in_every_form_and_free_text():
    expected = Counter(case["expected_rejection_reason"] for case in CASES)
    assert all(expected[reason] >= 4 for reason in REJECTION_REASONS)
    assert expected[None] >= 5
    rejected_with_comments = [c for c in CASES if c["bug"]["status"] == "rejected" and c["bug"].get("comments")]
    assert any(
        c["expected_rejection_reason"] is None for c in rejected_with_comments
    ), "free-text rejections that name no reason"


def test_a_raw_response_body_of_the_fixture_bugs_decodes_to_the_expected_reasons():
    body = (FIXTURES / "rejected_bugs.json").read_text()
    response_body = json.dumps({"bugs": [case["bug"] for case in json.loads(body)["cases"]]})
    with BugBodyDecoder({}) as decoder:
        rows = decoder.table([response_body]).to_pylist()
    derived = {row["bug_id"]: row["rejection_reason"] for row in rows}
    assert derived == {case["bug"]["id"]: case["expected_rejection_reason"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_each_fixture_bug(case):
    row = normalize_bugs([case["bug"]], {}).to_pylist()[0]
    assert row["rejection_reason"] == case["expected_rejection_reason"]
    assert row["api_status"] == case["bug"]["status"]


def _bugs_over_http(sim: Simulator) -> list[dict]:
    test_ids = [test["id"] for test in sim.tests_payload()]

    async def fetch() -> list[dict]:
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://testio-simulator") as client:
            bugs = []
            for start in range(0, len(test_ids), 15):
                batch = ",".join(map(str, test_ids[start:start + 15]))
                response = await client.get("bugs", params={"filter_test_cycle_ids": batch})
                response.raise_for_status()
                bugs += response.json()["bugs"]
            return bugs

    return asyncio.run(fetch())


@pytest.fixture(scope="module")
def simulated_rejections() -> list[dict]:
    """Rejected bugs the tiny simulator serves over HTTP."""
    bugs = _bugs_over_http(Simulator(SimulatorConfig.preset("tiny", seed=7)))
    return [bug for bug in bugs if bug["status"] == "rejected"]


def test_the_simulator_sends_the_exact_contract_texts_among_other_comments(simulated_rejections):
    bodies = [[c["body"] for c in bug["comments"]] for bug in simulated_rejections]
    exact = {text for thread in bodies for text in thread if text in CONTRACT_TEXTS.values()}
    assert exact == set(CONTRACT_TEXTS.values())
    squashed = {" ".join(text.split()).lower() for text in CONTRACT_TEXTS.values()}

    def names_a_reason(text: str) -> bool:
        return any(default in " ".join(text.split()).lower() for default in squashed)

    retyped = [t for thread in bodies for t in thread if names_a_reason(t) and t not in CONTRACT_TEXTS.values()]
    assert retyped, "default texts re-typed (case, line breaks, inside a longer comment)"
    assert any(len(thread) > 1 and not names_a_reason(thread[0]) for thread in bodies), "chatter before"
    assert any(len(thread) > 1 and not names_a_reason(thread[-1]) for thread in bodies), "chatter after"
    assert any(thread and not any(map(names_a_reason, thread)) for thread in bodies), "free-text rejections"
    assert any(not thread for thread in bodies), "rejections without a comment"
