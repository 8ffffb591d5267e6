import pytest

from billing.services.subscriptions import subscription_for
from tests.templates.factories import service_with_template


@pytest.fixture
def funded(tenants):
    """Account A on the free plan: 100 credits granted, 50 generations a month."""
    subscription_for(tenants.a)
    return tenants


@pytest.fixture
def reading(chat_model):
    """Service "weekly-reading" (10 credits) with an active v1 JSON template on the loopback model."""
    return service_with_template("weekly-reading", cost="10")


@pytest.fixture
def fast_provider(settings):
    """No provider retries: one scripted failure is one failed call."""
    settings.AI_MAX_RETRIES = 0
    return settings


@pytest.fixture
def alice_api(funded, api_client):
    api_client.force_login(funded.alice)
    return api_client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """`with on_commit(execute=True):` runs what the block scheduled on commit (the task, eagerly)."""
    return django_capture_on_commit_callbacks
