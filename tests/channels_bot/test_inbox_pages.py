"""The inbox pages: the conversation list, a thread rendered as the customer saw
it, the customer panel, the reply box without JavaScript, the handoff buttons,
the reconnect banner, channels, and the orders and products lists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage
from channels_bot.models.platforms import Platform
from channels_bot.rich import Button, Card, Outgoing, QuickReply
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import (
    ChannelFactory,
    ConversationFactory,
    ConversationMessageFactory,
    CustomerFactory,
    OrderFactory,
    OrderItemFactory,
    OrderStatusChangeFactory,
    ProductFactory,
)
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db

CAROUSEL = Outgoing(
    text="Here is what we have:",
    cards=(
        Card(title="Pallet wrap", subtitle="19.90 USD", image_url="https://cdn.example.com/wrap.jpg",
             buttons=(Button(title="Order", payload="ORDER:wrap"),)),
        Card(title="Tape gun", subtitle="12.50 USD", buttons=(Button(title="Details", url="https://acme.example/tape"),)),
    ),
)  # fmt: skip
CHIPS = Outgoing(text="How many?", quick_replies=(QuickReply("1", "QTY:1"), QuickReply("2", "QTY:2")))


@pytest.fixture
def thread(tenants):
    """Kim's conversation on A's page: her question, the bot's carousel and quick
    replies (read), an image she sent, and an agent answer that failed; an order."""
    now = timezone.now()
    channel = ChannelFactory(account=tenants.a, channel_name="Acme Page")
    kim = CustomerFactory(channel=channel, full_name="Kim Minji", platform_customer_id="PSID-KIM")
    conversation = ConversationFactory(
        customer=kim, unread_count=3, last_customer_message_at=now - timedelta(minutes=3),
        last_message_at=now - timedelta(minutes=1),
    )  # fmt: skip

    def msg(sender, outgoing=None, **kw):
        outgoing = outgoing or Outgoing(text=kw.pop("text", ""))
        return ConversationMessageFactory(
            conversation=conversation, sender_type=sender, content_type=outgoing.content_type,
            content=outgoing.text or outgoing.as_numbered_text(), payload=outgoing.as_payload(), **kw,
        )  # fmt: skip

    msg("CUSTOMER", text="Do you sell wrap?", timestamp=now - timedelta(minutes=10))
    msg("BOT", CAROUSEL, delivery_state="read", timestamp=now - timedelta(minutes=9))
    msg("BOT", CHIPS, delivery_state="delivered", timestamp=now - timedelta(minutes=8))
    ConversationMessageFactory(
        conversation=conversation, content_type="IMAGE", content="", timestamp=now - timedelta(minutes=3),
        payload={"attachments": [{"type": "image", "url": "https://cdn.example.com/kim-photo.jpg"}]},
    )  # fmt: skip
    msg("AGENT", text="Let me check", delivery_state="failed", error_code="window_closed",
        error_message="(#10) This message is sent outside of allowed window.", sent_by=tenants.bob,
        timestamp=now - timedelta(minutes=1), platform_message_id="")  # fmt: skip
    product = ProductFactory(account=tenants.a, name="Pallet wrap", price=Decimal("19.90"))
    order = OrderFactory(customer=kim, conversation=conversation, total_amount=Decimal("39.80"))
    OrderItemFactory(order=order, product=product, quantity=2)
    return {"channel": channel, "conversation": conversation, "customer": kim, "order": order}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inbox_lists_conversations_with_unread_counts_and_a_preview(tenants, thread):
    # given Lee's older conversation too
    lee = ConversationFactory(customer=CustomerFactory(channel=thread["channel"], full_name="Lee Jun"),
                              last_message_at=timezone.now() - timedelta(days=1), needs_human=True)  # fmt: skip
    ConversationMessageFactory(conversation=lee, content="Is anyone there?")

    # when alice opens the inbox
    response = _client(tenants.alice).get("/inbox/")

    # then both show, newest first, with the last message, unread count and flags
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Kim Minji") < html.index("Lee Jun")
    assert "You: Let me check" in html
    assert 'aria-label="3 unread"' in html
    assert "Needs a human" in html
    assert 'data-account-ws="/ws/account/"' in html and "js/account_events.js" in html


def test_needs_a_human_filter(tenants, thread):
    lee = ConversationFactory(
        customer=CustomerFactory(channel=thread["channel"], full_name="Lee Jun"), needs_human=True
    )
    html = _client(tenants.alice).get("/inbox/?needs_human=on").content.decode()
    assert f'data-conversation="{lee.pk}"' in html
    assert f'data-conversation="{thread["conversation"].pk}"' not in html


def test_a_thread_renders_as_the_customer_saw_it_and_is_marked_read(tenants, thread):
    conversation = thread["conversation"]

    # when bob opens Kim's conversation
    response = _client(tenants.bob).get(f"/inbox/conversations/{conversation.pk}/")

    # then the carousel cards, quick-reply chips, her image, ticks and the failure with advice show
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="rich-card"') == 2
    assert "Pallet wrap" in html and "19.90 USD" in html and 'href="https://acme.example/tape"' in html
    assert '<span class="chip" title="QTY:1">1</span>' in html and '<span class="chip" title="QTY:2">2</span>' in html
    assert 'src="https://cdn.example.com/kim-photo.jpg"' in html
    assert "✓✓ Read" in html and 'title="Delivered"' in html
    assert "Not delivered: (#10) This message is sent outside of allowed window." in html
    assert "the platform accepts messages again once they write" in html
    # and the customer panel shows her order with its items
    assert 'data-testid="customer-panel"' in html and "2 × Pallet wrap" in html and "39.80 USD" in html
    # and opening it read it
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


def test_the_live_fragments_render_the_list_and_the_thread(tenants, thread):
    client = _client(tenants.bob)
    listed = client.get(f"/inbox/list/?open={thread['conversation'].pk}").content.decode()
    assert 'class="conv-list"' in listed and "current" in listed and "<html" not in listed
    parts = client.get(f"/inbox/conversations/{thread['conversation'].pk}/parts/").content.decode()
    assert 'id="thread-head"' in parts and 'id="thread-messages"' in parts and 'id="customer-panel"' in parts


def test_the_reply_box_sends_as_an_agent(tenants, thread):
    conversation = thread["conversation"]
    response = _client(tenants.bob).post(f"/inbox/conversations/{conversation.pk}/reply/", {"text": "It ships today"},
                                         follow=True)  # fmt: skip
    assert "Sent." in response.content.decode()
    with account_context(tenants.a.id):
        sent = ConversationMessage.objects.filter(conversation=conversation).order_by("-timestamp").first()
    assert (sent.sender_type, sent.content, sent.sent_by_id, sent.delivery_state) == (
        "AGENT", "It ships today", tenants.bob.pk, "pending",
    )  # fmt: skip


def test_a_reply_outside_the_window_is_a_clear_message_and_nothing_is_stored(tenants, thread, settings):
    settings.META_HUMAN_AGENT_TAG = False
    conversation = thread["conversation"]
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=conversation.pk).update(
            last_customer_message_at=timezone.now() - timedelta(days=2)
        )
        before = ConversationMessage.objects.filter(conversation=conversation).count()
    response = _client(tenants.bob).post(
        f"/inbox/conversations/{conversation.pk}/reply/", {"text": "Hello"}, follow=True
    )
    assert "no longer accepts messages to them until they write again" in response.content.decode()
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(conversation=conversation).count() == before


def test_close_and_archive_buttons(tenants, thread):
    conversation = thread["conversation"]
    client = _client(tenants.bob)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "Take over" in page and ">Close<" in page and ">Archive<" in page
    client.post(f"/inbox/conversations/{conversation.pk}/close/")
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).status == "CLOSED_BY_AGENT"
    response = client.post(f"/inbox/conversations/{conversation.pk}/archive/", follow=True)
    assert "Archived." in response.content.decode()
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).status == "ARCHIVED"
    # an archived conversation leaves the default list and has no reply box
    assert f'data-conversation="{conversation.pk}"' not in client.get("/inbox/").content.decode()
    assert 'id="reply-form"' not in client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()


def test_a_viewer_reads_without_buttons_and_cannot_act(tenants, thread):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    client = _client(viewer)
    conversation = thread["conversation"]
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "Pallet wrap" in page and "Take over" not in page and 'id="reply-form"' not in page
    assert client.post(f"/inbox/conversations/{conversation.pk}/close/").status_code == 403
    assert client.post(f"/inbox/conversations/{conversation.pk}/reply/", {"text": "hi"}).status_code == 403
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).status == "OPEN"
        assert ConversationMessage.objects.filter(conversation=conversation, content="hi").count() == 0


def test_another_accounts_conversation_is_a_404_on_every_page(tenants, thread):
    foreign = ConversationFactory(customer=CustomerFactory(channel=ChannelFactory(account=tenants.b)))
    client = _client(tenants.alice)
    for suffix in ("", "parts/"):
        assert client.get(f"/inbox/conversations/{foreign.pk}/{suffix}").status_code == 404
    for suffix in ("reply/", "take-over/", "give-back/", "close/", "archive/"):
        assert client.post(f"/inbox/conversations/{foreign.pk}/{suffix}", {"text": "x"}).status_code == 404
    with account_context(tenants.b.id):
        foreign.refresh_from_db()
        assert (foreign.status, foreign.handler, foreign.messages.count()) == ("OPEN", "bot", 0)


def test_a_channel_that_needs_reconnecting_shows_a_banner_on_the_inbox_and_channels(tenants, thread):
    with account_context(tenants.a.id):
        ConnectedChannel.objects.filter(pk=thread["channel"].pk).update(
            auth_state="needs_reconnect", auth_error="The page token expired (Graph error 190)."
        )
    client = _client(tenants.bob)
    for url in ("/inbox/", "/inbox/channels/"):
        html = client.get(url).content.decode()
        assert "Acme Page needs reconnecting." in html
        assert "The page token expired (Graph error 190)." in html
        assert 'href="/channels/connect/facebook/start/">Reconnect</a>' in html


def test_the_channels_page_says_what_linkedin_and_x_allow(tenants, thread):
    ChannelFactory(account=tenants.a, platform_type=Platform.LINKEDIN_PAGE, route="linkedin_oauth",
                   channel_name="Acme on LinkedIn")  # fmt: skip
    ChannelFactory(account=tenants.a, platform_type=Platform.TWITTER_PROFILE, route="x_oauth2", channel_name="@acme")
    html = _client(tenants.alice).get("/inbox/channels/").content.decode()
    assert "LinkedIn has no messaging API for pages: the bot answers comments and mentions" in html
    assert "X direct messages are behind a feature flag (CHANNELS_X_ENABLED)" in html
    assert "Pause" in html


def test_an_admin_picks_a_persona_and_pauses_a_channel(tenants, thread):
    persona = PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Ada")
    client = _client(tenants.alice)
    client.post(f"/inbox/channels/{thread['channel'].pk}/", {"persona": str(persona.pk)})
    response = client.post(f"/inbox/channels/{thread['channel'].pk}/", {"is_active": "0"}, follow=True)
    assert "Paused Acme Page" in response.content.decode()
    with account_context(tenants.a.id):
        stored = ConnectedChannel.objects.get(pk=thread["channel"].pk)
    assert (stored.persona_id, stored.is_active) == (persona.pk, False)


def test_a_member_cannot_change_a_channel(tenants, thread):
    client = _client(tenants.bob)
    assert client.post(f"/inbox/channels/{thread['channel'].pk}/", {"is_active": "0"}).status_code == 403
    assert 'name="persona"' not in client.get("/inbox/channels/").content.decode()
    with account_context(tenants.a.id):
        assert ConnectedChannel.objects.get(pk=thread["channel"].pk).is_active is True


def test_orders_list_filters_by_status_and_the_detail_shows_items_and_history(tenants, thread):
    order = thread["order"]
    OrderStatusChangeFactory(order=order, to_status="PENDING", actor_kind="bot")
    shipped = OrderFactory(customer=thread["customer"], order_status="SHIPPED")
    client = _client(tenants.bob)

    pending = client.get("/inbox/orders/?status=PENDING").content.decode()
    assert f'data-testid="order-{order.pk}"' in pending and f'data-testid="order-{shipped.pk}"' not in pending

    detail = client.get(f"/inbox/orders/{order.pk}/").content.decode()
    assert "Pallet wrap" in detail and "39.80 USD" in detail and "39.80" in detail
    assert "<strong>Pending</strong> by bot" in detail
    assert 'value="CONFIRMED"' in detail and 'value="CANCELLED"' in detail and 'value="SHIPPED"' not in detail


def test_products_list_and_search(tenants):
    ProductFactory(account=tenants.a, name="Pallet wrap", sku="WRAP-1", description="Stretch film for pallets")
    ProductFactory(account=tenants.a, name="Tape gun", sku="TAPE-1")
    ProductFactory(account=tenants.b, name="Foreign wrap")
    client = _client(tenants.bob)
    html = client.get("/inbox/products/").content.decode()
    assert "Pallet wrap" in html and "Tape gun" in html and "Foreign wrap" not in html
    found = client.get("/inbox/products/?q=film").content.decode()
    assert "Pallet wrap" in found and "Tape gun" not in found
    assert "Pallet wrap" in client.get("/inbox/products/?q=WRAP").content.decode()
