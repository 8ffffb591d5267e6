"""The demo owner walks the demo in Chromium, at 1280 px and on a 390 px phone:
signs in (and lands in Acme Logistics), opens every product the sidebar offers,
collapses the sidebar, searches from the top bar, switches to Korean and back, and
uses the phone's drawer.
On every page no element sticks out of the viewport horizontally.

The demo is the one `bin/dev` loads (seed_everything). No ORM while the browser is
open: see `chromium()`.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser.chromium import PHONE, chromium, horizontal_overflow, layout_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 15_000

# Elements whose box leaves the viewport sideways, unless a scrolling (or clipping)
# ancestor holds them, or they are wholly off-screen on purpose (the closed drawer).
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth, bad = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.right <= 0) continue;
    if (r.right <= width + 1 && r.left >= -1) continue;
    let p = el.parentElement, held = false;
    while (p && p !== document.body) {
      if (getComputedStyle(p).overflowX !== "visible") { held = true; break; }
      p = p.parentElement;
    }
    if (held || getComputedStyle(el).visibility === "hidden") continue;
    bad.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
  }
  return bad.slice(0, 8);
}"""


def _fits(page) -> tuple[int, list[str]]:
    return horizontal_overflow(page), page.evaluate(OVERFLOWING)


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/auth/login/")
    page.locator("input[name=login]").fill(DEMO_USERS["owner"][0])
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/dashboard/")


def test_the_demo_owner_walks_every_product_on_desktop_and_phone(live_server):
    # given the demo bin/dev loads
    call_command("seed_everything", "--strict", stdout=StringIO(), stderr=StringIO())
    base = live_server.url

    with chromium() as browser:
        desktop = browser.new_context(viewport={"width": 1280, "height": 800})
        desktop.set_default_timeout(TIMEOUT_MS)
        page = desktop.new_page()

        # when the owner signs in, they land in the team account, with its credits in the top bar
        _sign_in(page, base)
        expect(page.get_by_test_id("active-account")).to_have_text("Acme Logistics")
        expect(page.locator("#account-switcher")).to_have_value(re.compile(r".+"))
        expect(page.get_by_test_id("credits-badge")).to_contain_text("credits")
        sidebar = page.get_by_test_id("sidebar")
        expect(sidebar).to_be_visible()
        for heading in ("Assistants", "Services", "Channels", "Account"):
            expect(sidebar.locator(".nav-heading", has_text=heading)).to_be_visible()

        # then every product page the sidebar offers opens, marked current, and fits 1280 px
        links = sidebar.locator("a.nav-link")
        targets = [(links.nth(i).get_attribute("data-nav"), links.nth(i).get_attribute("href"))
                   for i in range(links.count())]  # fmt: skip
        assert {"personas", "chats", "knowledge", "services", "billing", "usage", "members", "api_keys"} <= {
            key for key, _ in targets
        }
        desktop_fit = {}
        for key, href in targets:
            response = page.goto(f"{base}{href}")
            assert response.ok, (href, response.status)
            expect(sidebar.locator(f'a.nav-link[data-nav="{key}"]')).to_have_attribute("aria-current", "page")
            desktop_fit[href] = _fits(page)
        assert {href: fit for href, fit in desktop_fit.items() if fit != (0, [])} == {}

        # and the demo's content is there: indexed documents, the persona's chats, the billing curve
        page.goto(f"{base}/knowledge/")
        page.get_by_role("link", name="Acme shipping handbook").click()
        expect(page.get_by_test_id("documents")).to_contain_text("acme-claims-procedure.pdf")
        expect(page.get_by_test_id("documents").locator("tbody tr")).to_have_count(4)
        page.goto(f"{base}/chats/")
        expect(page.get_by_test_id("chat-list")).to_contain_text("Shipping a parcel to Jeju")
        page.goto(f"{base}/billing/")
        expect(page.locator("svg.chart").first).to_be_visible()
        page.goto(f"{base}/services/")
        expect(page.locator(".service-icon svg.icon").first).to_be_visible()

        # when they collapse the sidebar, it keeps only icons, and stays so on the next page
        page.goto(f"{base}/dashboard/")
        page.locator("[data-shell-collapse]").click()
        assert page.evaluate("document.querySelector('#sidebar').getBoundingClientRect().width") <= 64
        page.goto(f"{base}/knowledge/")
        assert page.evaluate("document.querySelector('#sidebar').getBoundingClientRect().width") <= 64
        expect(sidebar.locator('a.nav-link[data-nav="knowledge"] .nav-label')).to_be_hidden()
        assert _fits(page) == (0, [])
        page.locator("[data-shell-collapse]").click()
        assert page.evaluate("document.querySelector('#sidebar').getBoundingClientRect().width") > 200

        # when they type in the top bar's search, matches of this account are suggested
        search = page.locator("#global-search-input")
        search.fill("hazardous")
        suggestions = page.locator("#global-search-suggest")
        expect(suggestions).to_be_visible()
        expect(suggestions).to_contain_text("acme-warehouse-handbook.docx")
        # and Enter opens the results page, with the document and the words marked
        search.press("Enter")
        expect(page).to_have_url(re.compile(r"/search/\?q=hazardous"))
        results = page.get_by_test_id("search-results")
        expect(results).to_contain_text("acme-warehouse-handbook.docx")
        expect(results.locator("mark").first).to_be_visible()
        assert _fits(page) == (0, [])
        # and Globex's documents are not found from Acme
        page.goto(f"{base}/search/?q=thumbnail")
        expect(page.get_by_test_id("empty-state")).to_be_visible()

        # when they switch the language to Korean from the user menu
        page.goto(f"{base}/dashboard/")
        page.get_by_test_id("user-menu").locator("summary").click()
        page.locator("#language-select").select_option("ko")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        # then the shell and the product pages speak Korean, and still fit
        for heading in ("어시스턴트", "채널", "계정"):
            expect(sidebar.locator(".nav-heading", has_text=heading)).to_be_visible()
        korean_fit = {}
        for href in ("/dashboard/", "/knowledge/", "/chats/", "/billing/", "/canvas/builder/", "/inbox/"):
            assert page.goto(f"{base}{href}").ok, href
            expect(page.locator("html")).to_have_attribute("lang", "ko")
            korean_fit[href] = _fits(page)
        assert {href: fit for href, fit in korean_fit.items() if fit != (0, [])} == {}
        # and switching back gives English again
        page.get_by_test_id("user-menu").locator("summary").click()
        page.locator("#language-select").select_option("en")
        expect(sidebar.locator(".nav-heading", has_text="Assistants")).to_be_visible()

        # when the same owner opens the demo on a phone
        phone = browser.new_context(storage_state=desktop.storage_state(), **PHONE)
        phone.set_default_timeout(TIMEOUT_MS)
        mobile = phone.new_page()
        mobile.goto(f"{base}/dashboard/")
        assert layout_width(mobile) == 390

        # then the sidebar is a drawer behind the menu button
        drawer = mobile.get_by_test_id("sidebar")
        knowledge = drawer.locator('a.nav-link[data-nav="knowledge"]')
        expect(knowledge).not_to_be_in_viewport()
        mobile.locator("label.nav-toggle-label").click()
        expect(knowledge).to_be_in_viewport()
        knowledge.click()
        expect(mobile).to_have_url(f"{base}/knowledge/")
        expect(knowledge).not_to_be_in_viewport()

        # and every page, the search included, fits the phone's width
        phone_fit = {}
        for _key, href in [*targets, ("search", "/search/?q=claims")]:
            assert mobile.goto(f"{base}{href}").ok, href
            phone_fit[href] = _fits(mobile)
        assert {href: fit for href, fit in phone_fit.items() if fit != (0, [])} == {}
        # and the search box is usable there too
        mobile.goto(f"{base}/dashboard/")
        mobile.locator("#global-search-input").fill("claims")
        expect(mobile.locator("#global-search-suggest")).to_contain_text("acme-claims-procedure.pdf")
