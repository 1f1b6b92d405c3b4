"""Ingestion assets by domain: catalogue, exploratory tests, bugs, users.

Wire with resources ``testio_api`` (:class:`TestIOApiResource`) and ``warehouse``
(:class:`WarehouseResource`); their checks are in :mod:`testio_assets.checks`.
"""

from testio_assets.assets.bugs import bugs
from testio_assets.assets.catalogue import features, products
from testio_assets.assets.exploratory_tests import exploratory_tests
from testio_assets.assets.run_config import RefreshConfig
from testio_assets.assets.users import users

ingestion_assets = [products, features, exploratory_tests, bugs, users]

__all__ = ["RefreshConfig", "ingestion_assets"]
