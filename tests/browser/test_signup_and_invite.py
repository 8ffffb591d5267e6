"""A new user signs up, confirms their address, and invites a colleague, in Chromium.

The live server (a thread of this process) mails into the same locmem outbox the
test reads; Celery runs eagerly, so the invitation mail is sent on commit.
No ORM here: see `chromium()` on Playwright's event loop.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.chromium import PHONE, chromium, horizontal_overflow, layout_width

pytestmark = pytest.mark.browser

EMAIL = "mina@example.com"
PASSWORD = "tangerine-Lighthouse-42"
INVITEE = "jun@example.com"
WORKSPACE = "mina's workspace"
TIMEOUT_MS = 10_000


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def confirmation_link(message) -> str:
    found = re.findall(r"https?://\S+/auth/confirm-email/\S+/", message.body)
    assert len(found) == 1, message.body
    return found[0]


def test_sign_up_confirm_and_invite_a_colleague(live_server, mailoutbox):
    with chromium() as browser:
        desktop = browser.new_context(viewport={"width": 1280, "height": 800})
        desktop.set_default_timeout(TIMEOUT_MS)
        page = desktop.new_page()

        # given a visitor signs up with email and password
        page.goto(f"{live_server.url}/auth/signup/")
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=password1]").fill(PASSWORD)
        page.locator("input[name=password2]").fill(PASSWORD)
        page.get_by_role("button", name="Sign Up").click()

        # then allauth asks them to verify the address, and has mailed them a link
        expect(page).to_have_url(re.compile(r"/auth/confirm-email/$"))
        assert [m.subject for m in mails_to(EMAIL)] == ["[aiplatform] Please Confirm Your Email Address"]
        link = confirmation_link(mails_to(EMAIL)[0])
        assert link.startswith(f"{live_server.url}/auth/confirm-email/")

        # when they open the link and confirm (a GET alone confirms nothing)
        page.goto(link)
        expect(page.locator("main")).to_contain_text(EMAIL)
        page.get_by_role("button", name="Confirm").click()

        # then they are signed in on the dashboard of their new personal account
        expect(page).to_have_url(f"{live_server.url}/dashboard/")
        expect(page.get_by_test_id("active-account")).to_have_text(WORKSPACE)
        expect(page.locator("main")).to_contain_text("Personal account")

        # when they invite a colleague from the members page
        page.goto(f"{live_server.url}/settings/members/")
        form = page.get_by_test_id("invite-form")
        form.locator("input[name=email]").fill(INVITEE)
        form.get_by_role("button", name="Send invitation").click()

        # then the invitation is listed as pending, and it was mailed on commit
        expect(page).to_have_url(f"{live_server.url}/settings/members/")
        expect(page.locator(".messages")).to_contain_text(f"Invitation sent to {INVITEE}.")
        invitations = page.get_by_test_id("invitations")
        expect(invitations.locator("tbody tr")).to_have_count(1)
        expect(invitations.locator("tbody tr td").nth(0)).to_have_text(INVITEE)
        expect(invitations.locator("tbody tr td").nth(1)).to_have_text("Member")
        assert [m.subject for m in mails_to(INVITEE)] == [f"[aiplatform] You are invited to {WORKSPACE}"]
        assert re.search(r"/invitations/[\w-]+/", mails_to(INVITEE)[0].body)

        # when the same user opens the pages on a phone
        phone = browser.new_context(storage_state=desktop.storage_state(), **PHONE)
        phone.set_default_timeout(TIMEOUT_MS)
        mobile = phone.new_page()
        mobile.goto(f"{live_server.url}/dashboard/")

        # then the menu hides behind the toggle, which opens it
        toggle = mobile.locator("label.nav-toggle-label")
        members_link = mobile.locator("nav.nav").get_by_role("link", name="Members")
        expect(toggle).to_be_visible()
        expect(members_link).to_be_hidden()
        toggle.click()
        expect(members_link).to_be_visible()
        members_link.click()
        expect(mobile).to_have_url(f"{live_server.url}/settings/members/")
        expect(mobile.get_by_test_id("invitations")).to_contain_text(INVITEE)

        # and every page lays out at the phone's width, none wider than the screen
        anonymous = browser.new_context(**PHONE).new_page()
        anonymous.goto(f"{live_server.url}/auth/signup/")
        expect(anonymous.locator("input[name=email]")).to_be_visible()
        widths = {"signup": (layout_width(anonymous), horizontal_overflow(anonymous))}
        for path in ("/dashboard/", "/settings/members/"):
            mobile.goto(f"{live_server.url}{path}")
            widths[path] = (layout_width(mobile), horizontal_overflow(mobile))
        assert widths == {"signup": (390, 0), "/dashboard/": (390, 0), "/settings/members/": (390, 0)}
