"""Shared fixtures.

The test database is created and migrated as the owner role (like production
migrations); the tests themselves connect as the app role, which row-level
security binds. The embedded servers of the tests live under .data/test.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connections
from django.test.utils import setup_databases, teardown_databases

from accounts.tenancy.roles import as_owner


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    with django_db_blocker.unblock():
        with as_owner(connections["default"]):
            config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    yield
    with django_db_blocker.unblock():
        with as_owner(connections["default"]):
            teardown_databases(config, verbosity=0)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached sessions live in Redis; start each test clean."""
    cache.clear()
    yield


@pytest.fixture
def tenants(db):
    """alice owns account A, bob is a member of A, carol owns account B (the outsider)."""
    from tests.accounts.factories import tenant_setup

    return tenant_setup()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def pytest_sessionfinish(session, exitstatus):
    """Stop the test suite's own embedded servers; nothing outlives the run."""
    from django.conf import settings

    if getattr(settings, "EMBEDDED_SERVICES", False):
        from aiplatform import embedded

        embedded.stop(settings.DATA_DIR)
