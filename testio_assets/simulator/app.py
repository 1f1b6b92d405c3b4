"""The Starlette application: the TestIO Customer API v2 endpoints over the simulated data.

Served at the root and under ``/customer/v2``, so a base URL with or without that prefix works.
Every request is delayed and possibly failed by the fault injector, checked for its token,
answered, and recorded in the simulator's request log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from testio_assets.simulator.catalogue import feature_payload, product_payload, user_story_payloads
from testio_assets.simulator.dataset import to_json

if TYPE_CHECKING:
    from testio_assets.simulator.simulator import Simulator

API_PREFIX = "/customer/v2"
UNPAGED_TEST_LIMIT = 150
DEFAULT_PER_PAGE = 25
# How often a hanging request looks whether its fault was lifted or its client went away.
HANG_POLL_S = 0.05


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to the base URL, e.g. "products/12/exploratory_tests"
    query: dict[str, str]
    status: int


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PoisonedPage(Exception):
    """A listing page holding a poison test, failing by ``FaultConfig.poison_fault``."""


def json_response(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def build_app(sim: Simulator) -> Starlette:
    endpoints = _Endpoints(sim)

    def route(path: str, produce: Callable[[Request], str]) -> Route:
        async def endpoint(request: Request) -> Response:
            return await endpoints.handle(request, produce)

        return Route(path, endpoint, methods=["GET"])

    routes = [
        route("/products", endpoints.products),
        route("/products/{pid:int}", endpoints.product),
        route("/products/{pid:int}/features", endpoints.features),
        route("/products/{pid:int}/sections/{sid:int}/features", endpoints.section_features),
        route("/products/{pid:int}/user_stories", endpoints.user_stories),
        route("/products/{pid:int}/exploratory_tests", endpoints.exploratory_tests),
        route("/exploratory_tests/{tid:int}", endpoints.exploratory_test),
        route("/bugs", endpoints.bugs),
    ]
    fallback = Route("/{path:path}", endpoints.fallback, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    return Starlette(routes=[Mount(API_PREFIX, routes=[*routes, fallback]), *routes, fallback])


class _Endpoints:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.data = sim.dataset

    async def handle(self, request: Request, produce: Callable[[Request], str]) -> Response:
        injector = self.sim.fault_injector
        decision = injector.decide()
        if decision.delay_s > 0:
            await asyncio.sleep(decision.delay_s)
        endpoint = produce.__name__

        def hanging() -> bool:
            return endpoint in self.sim.faults.hang_endpoints

        if hanging() and not await self._hang(request, hanging):
            return Response(status_code=499)  # the client went away; nobody reads this
        injector = self.sim.fault_injector  # the faults may have changed while hanging
        response = (
            self._auth_failure(request)
            or injector.failure_response(decision)
            or injector.wrong_body_response(endpoint)
        )
        if response is None:
            try:
                response = json_response(produce(request))
            except ApiError as error:
                response = json_response(to_json({"error": str(error)}), error.status)
            except PoisonedPage:
                if self.sim.faults.poison_fault == "malformed":
                    response = json_response('{"exploratory_tests": [')
                elif await self._hang(request, lambda: bool(self.sim.faults.poison_test_ids)):
                    response = json_response(produce(request))  # the poison was lifted
                else:
                    return Response(status_code=499)
        self._record(request, response.status_code)
        return response

    async def _hang(self, request: Request, hanging: Callable[[], bool]) -> bool:
        """Wait while ``hanging()`` holds (the fault is configured); False when the client
        disconnected first.

        Disconnection is watched with a plain ASGI ``receive()`` rather than Starlette's
        ``is_disconnected()``, whose anyio cancel scope can swallow the client's own timeout
        when the app runs in-process.
        """
        self.sim.hung_requests += 1
        message = asyncio.ensure_future(request.receive())
        try:
            while hanging():
                done, _ = await asyncio.wait({message}, timeout=HANG_POLL_S)
                if done:
                    if message.result().get("type") == "http.disconnect":
                        return False
                    message = asyncio.ensure_future(request.receive())  # the (empty) body
            return True
        finally:
            message.cancel()

    async def fallback(self, request: Request) -> Response:
        status = 404 if request.method == "GET" else 405
        response = self._auth_failure(request) or json_response(to_json({"error": "Not found"}), status)
        self._record(request, response.status_code)
        return response

    def _record(self, request: Request, status: int) -> None:
        path = request.url.path
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX):]
        self.sim.request_log.append(RecordedRequest(request.method, path.lstrip("/"), dict(request.query_params), status))

    def _auth_failure(self, request: Request) -> Response | None:
        header = request.headers.get("authorization")
        if self.sim.forbidden_token is not None and header == f"Token {self.sim.forbidden_token}":
            return json_response(to_json({"error": "This token may not access the customer API"}), 403)
        if self.sim.token is not None and header != f"Token {self.sim.token}":
            return json_response(to_json({"error": "Invalid or missing API token"}), 401)
        return None

    # Endpoints: each returns the JSON body or raises ApiError.

    def _product(self, request: Request):
        product = self.data.products_by_id.get(request.path_params["pid"])
        if product is None:
            raise ApiError(404, "Product not found")
        return product

    def products(self, request: Request) -> str:
        return to_json({"products": [product_payload(p) for p in self.data.products]})

    def product(self, request: Request) -> str:
        return to_json({"product": product_payload(self._product(request))})

    def features(self, request: Request) -> str:
        product = self._product(request)
        if product.has_sections:
            raise ApiError(422, "This product has sections: list features per section")
        return to_json({"features": [feature_payload(f) for f in product.listed_features()]})

    def section_features(self, request: Request) -> str:
        product = self._product(request)
        features = product.section_features(request.path_params["sid"])
        if features is None:
            raise ApiError(404, "Section not found")
        return to_json({"features": [feature_payload(f) for f in features]})

    def user_stories(self, request: Request) -> str:
        product = self._product(request)
        raw = request.query_params.get("section_id")
        if product.has_sections:
            if raw is None:
                raise ApiError(400, "section_id is required for products with sections")
            section_id = _positive_int(raw, "section_id")
            if not any(s.id == section_id for s in product.sections):
                raise ApiError(404, "Section not found")
            features = product.listed_features(section_id)
        else:
            features = product.listed_features()
        return to_json({"user_stories": user_story_payloads(features)})

    def exploratory_tests(self, request: Request) -> str:
        product = self._product(request)
        params = request.query_params
        if "page" in params:
            page = _positive_int(params["page"], "page")
            per_page = _positive_int(params.get("per_page", str(DEFAULT_PER_PAGE)), "per_page")
            offset, limit = (page - 1) * per_page, per_page
        else:
            offset, limit = 0, UNPAGED_TEST_LIMIT
        now = self.sim.clock.timestamp()
        tests = self.data.product_tests_newest_first(product.id, now, offset, limit)
        poison = self.sim.faults.poison_test_ids
        if poison and any(t.id in poison for t in tests):
            if self.sim.faults.poison_fault == "error":
                raise ApiError(500, "Internal Server Error")
            raise PoisonedPage()
        return '{"exploratory_tests":[' + ",".join(self.data.test_json(t, now) for t in tests) + "]}"

    def exploratory_test(self, request: Request) -> str:
        now = self.sim.clock.timestamp()
        test = self.data.test(request.path_params["tid"], now)
        if test is None:
            raise ApiError(404, "Exploratory test not found")
        return '{"exploratory_test":' + self.data.test_json(test, now) + "}"

    def bugs(self, request: Request) -> str:
        raw = request.query_params.get("filter_test_cycle_ids")
        if raw is None:
            raise ApiError(400, "filter_test_cycle_ids is required")
        now = self.sim.clock.timestamp()
        parts = []
        for test_id in dict.fromkeys(_int_list(raw)):
            test = self.data.test(test_id, now)
            if test is not None:
                items = self.data.bugs_json_items(test, now)
                if items:
                    parts.append(items)
        return '{"bugs":[' + ",".join(parts) + "]}"


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None
    if value < 1:
        raise ApiError(400, f"{name} must be at least 1")
    return value


def _int_list(raw: str) -> list[int]:
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ApiError(400, "filter_test_cycle_ids must be a comma-separated list of ids") from None
