"""The integrations and analyses pages: connect, reconnect shown, GoHighLevel's
OAuth round trip through the callback page, publish from the page."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from canvas.models import CampaignPublication, PlatformIntegration
from tests.support import fake_publishers as fp

pytestmark = pytest.mark.django_db


def test_wordpress_is_connected_from_the_page_and_a_campaign_published(tenants, fake, campaign, client, run_jobs):
    client.force_login(tenants.alice)
    client.post("/canvas/integrations/", {"action": "connect", "platform_type": "wordpress",
                                          "site_url": fake.wordpress_url, "username": fp.WP_USER,
                                          "app_password": fp.WP_APP_PASSWORD})  # fmt: skip
    with account_context(tenants.a.id):
        integration = PlatformIntegration.objects.get(platform_type="wordpress")
    with run_jobs():
        client.post("/canvas/integrations/", {"action": "publish", "integration": integration.pk,
                                              "campaign": campaign.pk, "target": "page"})  # fmt: skip
    page = client.get("/canvas/integrations/")
    assert page.status_code == 200 and b"Site Admin" in page.content
    with account_context(tenants.a.id):
        assert CampaignPublication.objects.get().status == "published"


def test_a_refused_integration_shows_reconnect(tenants, fake, client):
    client.force_login(tenants.alice)
    client.post("/canvas/integrations/", {"action": "connect", "platform_type": "wordpress",
                                          "site_url": fake.wordpress_url, "username": fp.WP_USER,
                                          "app_password": fp.WP_APP_PASSWORD})  # fmt: skip
    with account_context(tenants.a.id):
        PlatformIntegration.objects.update(connection_status="error", sync_error_message="Reconnect WordPress: no")
    page = client.get("/canvas/integrations/")
    assert b'data-testid="reconnect"' in page.content and b"Reconnect WordPress: no" in page.content


def test_gohighlevel_oauth_round_trip_through_the_callback_page(tenants, fake, client):
    client.force_login(tenants.alice)
    start = client.post("/canvas/integrations/", {"action": "connect", "platform_type": "gohighlevel"})
    assert start.status_code == 302 and start["Location"].startswith(fake.url + "/ghl-marketplace/")
    done = client.get(fake.ghl_authorize(start["Location"]))
    assert done.status_code == 302
    with account_context(tenants.a.id):
        row = PlatformIntegration.objects.get(platform_type="gohighlevel")
    assert row.connection_status == "connected" and row.account_name == "Acme Fitness"
    assert fake.calls("ghl.token")[0].form["grant_type"] == "authorization_code"


def test_another_accounts_integration_cannot_be_touched_from_the_page(tenants, fake, client):
    client.force_login(tenants.carol)
    client.post("/canvas/integrations/", {"action": "connect", "platform_type": "custom",
                                          "url": fake.webhook_url(), "signing_secret": "x" * 20})  # fmt: skip
    with account_context(tenants.b.id):
        foreign = PlatformIntegration.objects.get()
    client.force_login(tenants.alice)
    assert client.post("/canvas/integrations/", {"action": "disconnect", "integration": foreign.pk}).status_code == 404


def test_analyses_page_lists_and_shows_an_analysis(tenants, client):
    from tests.canvas.builder.factories import PlatformAnalysisFactory

    row = PlatformAnalysisFactory(account=tenants.a, status="completed", summary={"headline": "Good", "score": 80},
                                  recommendations=[{"title": "Shorter form", "detail": "Two fields.",
                                                    "priority": "high"}])  # fmt: skip
    client.force_login(tenants.alice)
    assert client.get("/canvas/analyses/").status_code == 200
    page = client.get(f"/canvas/analyses/{row.pk}/")
    assert b"Shorter form" in page.content and b"80" in page.content
    client.force_login(tenants.carol)
    assert client.get(f"/canvas/analyses/{row.pk}/").status_code == 404
