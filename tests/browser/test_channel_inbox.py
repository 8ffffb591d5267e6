"""An agent works the channel bot inbox in Chromium: a customer's Messenger
message (a signed webhook POSTed to the real endpoint) appears live without a
reload, the agent takes over and replies, and the reply shows as sent.

The project's ASGI app runs under uvicorn in a thread of this process (see
test_chat_streaming.py); Graph API calls go to the loopback fake platform, and
the bot's answer task is recorded instead of run (the bot is not under test
here). No ORM while the browser is open: see `chromium()`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, ConversationMessage
from tests.browser.chromium import PHONE, chromium, horizontal_overflow
from tests.browser.test_chat_streaming import asgi_server  # noqa: F401  (fixture)
from tests.channels_bot.conftest import _fake_platform_session, fake_platform  # noqa: F401  (fixtures)
from tests.channels_bot.factories import (
    ChannelFactory,
    ConversationFactory,
    ConversationMessageFactory,
    CustomerFactory,
)
from tests.support import fake_platform as fake
from tests.support.platform_webhooks import answers, meta_delivery, meta_entry, meta_message, post_signed  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 15_000
PAGE_ID = "1122334455"
PSID = "PSID-BROWSER-1"


def _signed_in(asgi_server, user, settings) -> dict:  # noqa: F811
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": asgi_server}  # fmt: skip


def test_a_customer_message_appears_live_and_the_agent_takes_over_and_replies(
    asgi_server,  # noqa: F811
    tenants,
    fake_platform,  # noqa: F811
    answers,  # noqa: F811
    settings,
):
    # given A's Facebook Page, an older conversation in the inbox, and alice signed in
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    channel = ChannelFactory(account=tenants.a, platform_specific_id=PAGE_ID, channel_name="Corner Shop",
                             access_token="PAGE-TOKEN-SHOP")  # fmt: skip
    older = ConversationFactory(customer=CustomerFactory(channel=channel, full_name="Lee Jun"),
                                last_message_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    ConversationMessageFactory(conversation=older, content="Thanks!")
    cookie = _signed_in(asgi_server, tenants.alice, settings)
    delivery = meta_delivery([meta_entry(PAGE_ID, [meta_message(PAGE_ID, PSID, "Do you ship to Busan?")])])

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{asgi_server}/inbox/")
        conversations = page.get_by_test_id("conversation-list")
        expect(conversations).to_contain_text("Lee Jun")
        expect(page.locator("#live-state")).to_have_text("Live")

        # when the customer writes to the page (Meta POSTs a signed delivery to our webhook)
        response = post_signed(f"{asgi_server}/webhooks/meta/", "meta", delivery, secret=fake.APP_SECRET)
        assert response.status_code == 200

        # then the new conversation appears at the top of the list, unread, without a reload
        first = conversations.locator("li.conv").first
        expect(first).to_contain_text("Do you ship to Busan?")
        expect(first.get_by_test_id("unread-count")).to_have_text("1")
        expect(conversations.locator("li.conv")).to_have_count(2)

        # when alice opens it and takes over from the bot
        first.locator("a").click()
        thread = page.get_by_test_id("thread")
        expect(thread).to_contain_text("Do you ship to Busan?")
        expect(page.get_by_test_id("conversation-handler")).to_have_text("Bot answers")
        page.get_by_role("button", name="Take over").click()
        expect(page.get_by_test_id("conversation-handler")).to_contain_text("Agent answers")
        expect(page.get_by_role("button", name="Give back to bot")).to_be_visible()

        # and replies in the reply box
        page.locator("#reply-text").fill("Yes, in two days.")
        page.get_by_role("button", name="Send").click()

        # then her reply shows in the thread as an agent message, and goes out (✓ once the platform took it)
        reply = thread.locator(".bubble.from-agent")
        expect(reply).to_contain_text("Yes, in two days.")
        expect(reply).to_have_attribute("data-state", "sent")
        expect(page.locator("#reply-text")).to_have_value("")
        expect(page.get_by_test_id("reply-alert")).to_be_hidden()

        # and on a phone the same thread fits the screen
        phone = browser.new_context(**PHONE)
        phone.add_cookies([cookie])
        small = phone.new_page()
        small.goto(page.url)
        expect(small.get_by_test_id("thread")).to_contain_text("Yes, in two days.")
        assert horizontal_overflow(small) == 0
        phone.close()

    # and what is stored is what the page showed: one customer message (the bot did not
    # answer: a human has the conversation) and alice's reply, sent through the Graph API
    with account_context(tenants.a.id):
        conversation = Conversation.objects.get(customer__platform_customer_id=PSID)
        stored = list(ConversationMessage.objects.filter(conversation=conversation).order_by("timestamp"))
    assert conversation.handler == "human" and conversation.assigned_to_id == tenants.alice.pk
    assert [(m.sender_type, m.content, m.delivery_state) for m in stored] == [
        ("CUSTOMER", "Do you ship to Busan?", "received"), ("AGENT", "Yes, in two days.", "sent"),
    ]  # fmt: skip
    assert stored[1].sent_by_id == tenants.alice.pk and stored[1].platform_message_id != ""
    assert len(answers) == 1  # the bot was asked once, for the message that came in before the take-over
