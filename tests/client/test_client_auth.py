"""401/403 errors that say what to fix, and a token that never shows anywhere."""

from __future__ import annotations

import logging
import traceback

import pytest
from client_helpers import TOKEN, client_for, make_sim, run

from testio_assets.client import TestIOAuthError, redact
from testio_assets.simulator import FaultConfig, Simulator, SimulatorConfig

WRONG_TOKEN = "tk_live_Wr0ng-Value-9876543210"


async def _products(client):
    async with client:
        return await client.get_products()


def _every_text(exc: BaseException, caplog) -> str:
    """The exception as users see it: message, repr, traceback, and every log line."""
    return "\n".join(
        [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        + [record.getMessage() for record in caplog.records]
    )


def test_a_rejected_token_raises_an_auth_error_naming_the_variable(caplog):
    caplog.set_level(logging.DEBUG)
    sim = make_sim(token=TOKEN)
    with pytest.raises(TestIOAuthError) as caught:
        run(_products(client_for(sim, token=WRONG_TOKEN)))
    assert caught.value.status == 401
    assert "TESTIO_CUSTOMER_API_TOKEN" in str(caught.value)
    assert WRONG_TOKEN not in _every_text(caught.value, caplog)
    assert len(sim.request_log) == 1, "a 401 is final, never retried"


def test_a_missing_token_is_rejected_the_same_way():
    with pytest.raises(TestIOAuthError, match="TESTIO_CUSTOMER_API_TOKEN"):
        run(_products(client_for(make_sim(token=TOKEN))))


def test_a_forbidden_token_raises_an_auth_error_about_the_customer(caplog):
    caplog.set_level(logging.DEBUG)
    sim = Simulator(SimulatorConfig.preset("tiny", seed=7), forbidden_token=WRONG_TOKEN)
    with pytest.raises(TestIOAuthError) as caught:
        run(_products(client_for(sim, token=WRONG_TOKEN)))
    assert caught.value.status == 403
    assert "belongs to the customer" in str(caught.value)
    assert "TESTIO_CUSTOMER_API_TOKEN" in str(caught.value)
    assert WRONG_TOKEN not in _every_text(caught.value, caplog)


def test_the_right_token_is_sent_as_a_token_header(sim):
    sim = make_sim(token=TOKEN)
    assert run(_products(client_for(sim, token=TOKEN))) == sim.products_payload()


def test_the_token_is_absent_from_logs_and_reprs_even_with_faults(caplog):
    caplog.set_level(logging.DEBUG)
    faults = FaultConfig(rate_limit_probability=0.15, transient_error_probability=0.15, malformed_probability=0.15)
    sim = make_sim(faults, token=TOKEN)
    client = client_for(sim, token=TOKEN)
    run(_products(client))
    assert client.stats.retries > 0
    texts = [record.getMessage() for record in caplog.records]
    texts += [repr(client), repr(client.config), repr(client.stats)]
    assert not [text for text in texts if TOKEN in text]


def test_redact_masks_the_token_and_echoed_credentials():
    text = f"headers {{'Authorization': 'Token {TOKEN}'}} url https://user:pw@api.test.io/x {TOKEN}"
    cleaned = redact(text, [TOKEN])
    assert TOKEN not in cleaned and "pw@" not in cleaned
    assert redact("Authorization: Token abc\nnext line") == "Authorization: ***\nnext line"
    assert redact("check the token belongs to the customer") == "check the token belongs to the customer"
