"""The Dagster resources: the API's and the simulator's, chosen explicitly, and a token that never leaks."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from client_helpers import TOKEN, make_sim, run

from testio_assets.client import TestIOAuthError
from testio_assets.client import resource as resource_module
from testio_assets.client.concurrency import run_async
from testio_assets.client.resource import TestIOApiResource
from testio_assets.settings import BASE_URL_ENV, TOKEN_ENV
from testio_assets.simulator import Simulator, SimulatorConfig
from testio_assets.simulator.resource import SimulatorApiResource, SimulatorResource


async def _products(resource: TestIOApiResource):
    async with resource.open_client() as client:
        return await client.get_products(), client.stats


def _products_asset_seeing(seen: list):
    @dg.asset
    def products(testio_api: TestIOApiResource) -> None:
        seen.append(testio_api)
        seen.append(run_async(_products(testio_api)))

    return products


def test_the_simulator_resource_builds_its_customer_for_the_run_from_its_config():
    seen: list = []
    resource = SimulatorApiResource(simulator=SimulatorResource(scale="tiny", seed=3))
    assert resource.source_description() == "built-in simulator (scale tiny, seed 3)"
    assert dg.materialize([_products_asset_seeing(seen)], resources={"testio_api": resource}).success
    served, (products, stats) = seen
    assert isinstance(served.simulator, Simulator)
    assert served.source_description() == "built-in simulator (scale tiny, seed 3)"
    assert products == Simulator(SimulatorConfig.preset("tiny", seed=3)).products_payload()
    assert stats.as_metadata()["api_calls_products"] == 1


def test_a_simulator_handed_in_is_the_one_served_with_the_given_settings(sim):
    seen: list = []
    resource = SimulatorApiResource.serving(sim, per_page=7, concurrency=2)
    assert dg.materialize([_products_asset_seeing(seen)], resources={"testio_api": resource}).success
    served, (products, _) = seen
    assert served.simulator is sim
    assert served.client_config().per_page == 7
    assert products == sim.products_payload()
    assert len(sim.request_log) == 1


def test_the_production_client_knows_nothing_of_the_simulator():
    resource = TestIOApiResource(token=TOKEN, base_url="https://staging.example.com/customer/v2")
    assert resource.transport() is None
    source = (Path(resource_module.__file__)).read_text()
    assert "simulator" not in source.split('"""', 2)[2].replace("SimulatorApiResource", "")


def test_with_a_token_the_resource_targets_the_configured_base_url(monkeypatch):
    monkeypatch.setenv(BASE_URL_ENV, "https://staging.example.com/customer/v2")
    resource = TestIOApiResource(token=f"  {TOKEN}  ")
    assert resource.source_description() == "TestIO API at https://staging.example.com/customer/v2"
    assert resource.client_config().token == TOKEN
    assert TOKEN not in repr(resource) and TOKEN not in str(resource)
    assert TOKEN not in repr(resource.client_config())


def test_run_async_works_inside_a_running_loop():
    async def inner():
        return run_async(_double(21))

    assert run(inner()) == 42


async def _double(value: int) -> int:
    return value * 2


def _products_asset():
    @dg.asset
    def products(testio_api: TestIOApiResource) -> dg.MaterializeResult:
        async def fetch():
            async with testio_api.open_client() as client:
                return await client.get_products(), client.stats

        rows, stats = run_async(fetch())
        return dg.MaterializeResult(
            metadata={"source": testio_api.source_description(), **stats.as_metadata(), "rows": len(rows)}
        )

    return products


@pytest.mark.parametrize("token_accepted", [True, False])
def test_token_from_env_var_never_reaches_the_event_log(monkeypatch, token_accepted):
    sim = make_sim(token=TOKEN)
    monkeypatch.setenv(TOKEN_ENV, TOKEN if token_accepted else "wrong-" + TOKEN)
    with sim.serve() as base_url, dg.instance_for_test() as instance:
        resource = TestIOApiResource(token=dg.EnvVar(TOKEN_ENV), base_url=base_url, max_attempts=2)
        result = dg.materialize(
            [_products_asset()], resources={"testio_api": resource}, instance=instance,
            raise_on_error=False,
        )
        text = "\n".join(str(r) for r in instance.all_logs(result.run_id))
        text += str(instance.get_run_by_id(result.run_id).run_config)
    assert result.success is token_accepted
    assert TOKEN not in text
    if token_accepted:
        [materialization] = result.asset_materializations_for_node("products")
        assert materialization.metadata["api_calls"].value == 1
        assert materialization.metadata["source"].value == f"TestIO API at {base_url}"
    else:
        assert TestIOAuthError.__name__ in text and TOKEN_ENV in text
