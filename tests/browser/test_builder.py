"""The web builder end to end in Chromium: alice creates a campaign, generates
its page (the loopback model answers; the components stream into the GrapesJS
editor over SSE), edits the hero's heading in the editor (autosaved through the
API), launches it; a visitor in a second browser context opens the hosted page,
clicks the call to action and submits the form; alice sees the view and the
conversion on the analytics page.

The project's ASGI app runs under uvicorn in a thread (`asgi_server`), Celery is
eager, so the generation job and the tracker's batch writer run for real. No ORM
while the browser is open (see `chromium()`)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from accounts.tenancy.context import account_context
from canvas.models import Campaign, CampaignPage, CampaignStatus
from tests.billing.factories import fund
from tests.browser.chromium import chromium
from tests.browser.test_chat_streaming import asgi_server  # noqa: F401  (the live ASGI server fixture)
from tests.canvas.builder.conftest import FORM, components_answer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 20_000
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
HERO = {"name": "Hero", "component_type": "hero_section",
        "html": '<section class="hero"><h1>Run further</h1><a href="#signup" data-track="cta">Join the club</a></section>',  # noqa: E501
        "css": ".hero{padding:40px}"}  # fmt: skip


def _cookie(settings, user, url) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": url}  # fmt: skip


def test_generate_edit_launch_and_visit_a_campaign(asgi_server, tenants, chat_model, model_server, settings):  # noqa: F811
    # given alice with credits and the builder on the loopback model
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.BUILDER_GENERATION_MODEL = chat_model.name
    settings.TRACKING_ALLOW_WEBDRIVER = True
    fund(tenants.a, "100")
    model_server.reply(components_answer(HERO, FORM))
    cookie = _cookie(settings, tenants.alice, asgi_server)

    with chromium() as browser:
        owner = browser.new_context(viewport={"width": 1400, "height": 900})
        owner.set_default_timeout(TIMEOUT_MS)
        owner.add_cookies([cookie])
        page = owner.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # when she creates a campaign and generates its page
        page.goto(f"{asgi_server}/canvas/builder/")
        form = page.get_by_test_id("campaign-new")
        form.locator("input[name=name]").fill("Marathon club")
        form.locator("textarea[name=description]").fill("Memberships for city runners")
        form.get_by_role("button", name="Create").click()
        expect(page.get_by_test_id("campaign-status")).to_have_text("Draft")
        generate = page.get_by_test_id("generate-form")
        generate.locator("textarea[name=prompt]").fill("A hero and a sign-up form")
        generate.get_by_role("button", name="Generate").click()

        # then the editor opens and the components arrive
        page.wait_for_url(re.compile(r".*/editor/\?generation="))
        expect(page.get_by_test_id("generation-status")).to_have_text("Generation finished.")
        canvas = page.frame_locator("#gjs iframe.gjs-frame")
        expect(canvas.locator("h1")).to_have_text("Run further")
        expect(canvas.locator("form input[type=email]")).to_have_count(1)

        # when she edits the hero's heading in the editor
        canvas.locator("h1").dblclick()
        page.keyboard.press("Control+A")
        page.keyboard.type("Run the distance")
        canvas.locator("form button").click()  # leave the text: the edit is committed and autosaved
        expect(page.get_by_test_id("editor-status")).to_have_text("Saved")
        page.get_by_test_id("device-phone").click()
        expect(page.locator(".gjs-frame-wrapper")).to_have_attribute("style", re.compile(r"width: ?375px"))

        # and launches the campaign
        page.goto(page.url.split("/editor/")[0] + "/")
        page.get_by_test_id("transition-launched").click()
        expect(page.get_by_test_id("campaign-status")).to_have_text("Launched")
        hosted = page.get_by_test_id("hosted-link").get_attribute("href")
        campaign_url = page.url

        # then a visitor in another context sees the edited page, clicks and signs up
        visitor = browser.new_context(user_agent=BROWSER_UA)
        visitor.set_default_timeout(TIMEOUT_MS)
        guest = visitor.new_page()
        with guest.expect_response(lambda r: "/t/e/" in r.url and r.request.method == "POST") as first:
            guest.goto(f"{asgi_server}{hosted}")
        expect(guest.locator("h1")).to_have_text("Run the distance")
        with guest.expect_response(lambda r: "/t/e/" in r.url and '"click"' in (r.request.post_data or "")):
            guest.get_by_role("link", name="Join the club").click()
        guest.locator("input[type=email]").fill("runner@example.com")
        guest.get_by_role("button", name="Join").click()
        guest.wait_for_load_state("networkidle")
        view_status = first.value.status
        visitor.close()

        # and alice sees the view and the conversion on the analytics page
        page.goto(campaign_url.rstrip("/").replace("/builder/campaigns/", "/campaigns/") + "/analytics/")
        # two views (the form has no action: submitting reloads the page), one visitor, one conversion
        expect(page.get_by_test_id("views")).to_have_text("2")
        expect(page.get_by_test_id("visitors")).to_have_text("1")
        expect(page.get_by_test_id("conversions")).to_have_text("1")
        owner.close()

    assert view_status == 202
    assert errors == []
    with account_context(tenants.a.id):
        campaign = Campaign.objects.get(account=tenants.a)
        published = CampaignPage.objects.get(campaign=campaign, is_published=True)
    assert campaign.status == CampaignStatus.LAUNCHED
    assert "Run the distance" in published.html and "<script" not in published.html
