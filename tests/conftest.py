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
from django.utils import translation

from accounts.tenancy.roles import as_owner

# Webhook fixtures of the channel bot (webhook_settings, answers, deliver); the fake
# ElevenLabs + HeyGen server of the media adapters (fake_media).
pytest_plugins = ["tests.support.platform_webhooks", "tests.support.fake_media"]


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
def _default_language():
    """A test that renders Korean leaves it active in its thread; the next one starts in the
    default language (xdist puts any test after any other)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached sessions live in Redis; start each test clean."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _platform_data_after_flush(request):
    """A transactional test flushes the database when it ends, and with it the platform data
    the data migrations seed (models, plans, services); the next one loads it again, so it
    sees the database as migrated whatever ran before it. Unconditionally: an earlier test's
    factories may have left a table non-empty without the seeded rows."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    if not (transactional or {"transactional_db", "live_server"} & set(request.fixturenames)):
        return
    from aiplatform.platform_data import platform_data_load

    request.getfixturevalue("transactional_db")
    platform_data_load()


@pytest.fixture
def tenants(db):
    """alice owns account A, bob is a member of A, carol owns account B (the outsider)."""
    from tests.accounts.factories import tenant_setup

    return tenant_setup()


@pytest.fixture
def vera(tenants):
    """A viewer of account A (besides alice, its owner, and bob, a member)."""
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory, UserFactory

    user = UserFactory(email="vera@example.com")
    MembershipFactory(account=tenants.a, user=user, role=Role.VIEWER)
    return user


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


@pytest.fixture(scope="session")
def _model_server_session():
    from tests.support.model_server import ModelServer

    server = ModelServer().start()
    yield server
    server.stop()


@pytest.fixture
def model_server(_model_server_session):
    """The loopback OpenAI/Anthropic-compatible model server (tests/support/model_server.py),
    started once per session and reset before each test: script it with `reply`, `fail`
    and `slow`, read what it received in `requests`."""
    _model_server_session.reset()
    yield _model_server_session
    _model_server_session.reset()


@pytest.fixture
def chat_model(db, settings, model_server):
    """An enabled registry entry "test-model" (provider openai, served by `model_server`
    as "loopback-1"; 1 credit per 1k tokens in, 2 per 1k out; $0.15 / $0.60 per
    million tokens), with AI_OPENAI_BASE_URL and AI_OPENAI_API_KEY pointing at the server."""
    from decimal import Decimal

    from aiplatform.ai.models import AiModel

    settings.AI_OPENAI_BASE_URL = model_server.base_url
    settings.AI_OPENAI_API_KEY = "test-key"
    model, _ = AiModel.objects.update_or_create(
        name="test-model",
        defaults={
            "provider": AiModel.Provider.OPENAI, "provider_model": "loopback-1", "kind": AiModel.Kind.CHAT,
            "context_window": 8192, "credits_in_per_1k": Decimal("1"), "credits_out_per_1k": Decimal("2"),
            "price_in_per_mtok": Decimal("0.15"), "price_out_per_mtok": Decimal("0.6"), "enabled": True,
        },
    )  # fmt: skip
    return model


@pytest.fixture(autouse=True)
def _ai_gateway_caches():
    """The gateway caches registry entries and shut-off checks in-process; a
    rolled-back test must not leave them behind for the next one."""
    from aiplatform.ai.guard import guard_clear
    from aiplatform.ai.registry import cache_clear

    cache_clear()
    guard_clear()
    yield
    cache_clear()
    guard_clear()
