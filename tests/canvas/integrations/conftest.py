import pytest

from tests.support.fake_publishers import FakePublishers


@pytest.fixture(scope="session")
def _publishers():
    fake = FakePublishers().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(_publishers, settings):
    """The fake WordPress / GoHighLevel / Simvoly / webhook server, every URL setting pointed at it."""
    _publishers.reset()
    _publishers.use_in(settings)
    settings.SITE_URL = "https://builder.example"
    return _publishers


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """`with run_jobs(): ...` runs the jobs queued in the block (Celery is eager in tests)."""
    from canvas.services.queue import redis_client

    for key in redis_client().scan_iter("aip:jobs:*"):
        redis_client().delete(key)
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def campaign(tenants):
    from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

    c = CampaignFactory(account=tenants.a, created_by=tenants.alice, name="Spring Sale", slug="spring-sale")
    ComponentFactory(campaign=c, code='<section><h1>Spring sale</h1><script>track()</script></section>',
                     css_styles="h1{color:red}")
    return c
