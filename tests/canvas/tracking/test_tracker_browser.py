"""tracker.js in Chromium: a page view with the page's components, a click on a
marked button, a form submit that is a conversion (sent with keepalive as the page
navigates away, and whose email field makes it a lead) and a conversion from the JS
API, all as text/plain posts answered 202 and written by the batch writer; a browser driven by automation is skipped
unless the tag allows it. No ORM while the browser is open (see `chromium()`)."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from accounts.tenancy.context import rls_bypass
from canvas.models.campaigns import Campaign, CampaignComponent
from canvas.models.tracking import CampaignEvent, Conversion
from tests.browser.chromium import chromium
from tests.canvas.tracking.conftest import BROWSER_UA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 15_000


def _tracked(kind: str):
    def match(response) -> bool:
        if "/t/e/" not in response.url or response.request.method != "POST":
            return False
        return json.loads(response.request.post_data or "{}").get("t") == kind

    return match


@pytest.fixture
def page_url(launched, live_server, settings):
    settings.ROOT_URLCONF = "tests.canvas.tracking.tracker_page_urls"
    settings.TRACKING_ALLOW_WEBDRIVER = True
    return f"{live_server.url}/tracker-test/{launched.id}/{launched.hero.pk}/{launched.form.pk}/"


def test_views_clicks_submits_and_conversions_reach_the_tables(launched, page_url):
    requests, leads = [], []
    with chromium() as browser:
        context = browser.new_context(user_agent=BROWSER_UA)  # headless Chromium's own agent is a bot's
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r) if "/t/e/" in r.url else None)
        page.on("request", lambda r: leads.append(json.loads(r.post_data)) if "/t/f/" in r.url else None)
        with page.expect_response(_tracked("view")) as view:
            page.goto(page_url)
        with page.expect_response(_tracked("click")) as click:
            page.get_by_role("button", name="Get started").click()
        with page.expect_response(_tracked("conversion")) as api_conversion:
            page.evaluate("canvasTrack.conversion('purchase', {value: 49, currency: 'usd'})")
        # the submit leaves the page: its posts go on with keepalive, the page sees no answer
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url("**/tracker-test/thanks/**")
        page.wait_for_load_state("networkidle")
        statuses = [r.value.status for r in (view, click, api_conversion)]
        sent = [(r.headers.get("content-type"), json.loads(r.post_data)) for r in requests]
        context.close()

    # then every post was text/plain JSON answered 202
    assert statuses == [202, 202, 202]
    assert {content_type for content_type, _ in sent} == {"text/plain"}
    kinds = sorted(body["t"] for _, body in sent)
    assert kinds == ["click", "conversion", "conversion", "form_submit", "view"]
    # the form held an email address: its fields went to the lead endpoint too
    assert leads == [{"c": launched.id, "n": "signup", "f": {"email": "a@b.example"}}]
    first_view = next(body for _, body in sent if body["t"] == "view")
    assert first_view["cs"] == [str(launched.hero.pk), str(launched.form.pk)]

    # and the writer (Celery, eager here) put them in the tables with the counters
    with rls_bypass("test: read what the writer wrote"):
        events = CampaignEvent.objects.filter(campaign=launched.campaign)
        deadline = time.monotonic() + 10
        while events.count() < len(kinds) and time.monotonic() < deadline:
            time.sleep(0.1)  # the keepalive posts of the page that was left
        assert sorted(events.values_list("event_type", flat=True)) == kinds
        click_row = events.get(event_type="click")
        assert click_row.component_id == launched.hero.pk and click_row.event_data["props"] == {"plan": "pro"}
        values = sorted((c.conversion_type, c.value, c.currency) for c in Conversion.objects.all())
        assert values == [("purchase", Decimal("49.00"), "USD"), ("signup", Decimal("19.90"), "EUR")]
        campaign = Campaign.objects.get(pk=launched.campaign.pk)
        assert (campaign.views, campaign.conversions, campaign.revenue_generated) == (1, 2, Decimal("68.90"))
        form = CampaignComponent.objects.get(pk=launched.form.pk)
        assert (form.views, form.conversions) == (1, 1)


def test_a_browser_driven_by_automation_is_skipped_unless_allowed(launched, page_url, settings):
    settings.TRACKING_ALLOW_WEBDRIVER = False
    requests = []
    with chromium() as browser:
        context = browser.new_context(user_agent=BROWSER_UA)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url) if "/t/e/" in r.url else None)
        page.goto(page_url)
        page.get_by_role("button", name="Get started").click()
        page.wait_for_load_state("networkidle")
        html = page.content()
        context.close()
    assert "data-allow-webdriver" not in html
    assert requests == []
