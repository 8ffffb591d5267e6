"""The whole channel bot, as a customer and a business meet it: a signed Messenger
delivery comes in through the real endpoint, the bot's carousel goes out to the
(loopback) Graph API, the customer orders in the conversation, and an agent's
status change reaches the customer on their channel."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, ConversationMessage, Order
from tests.channels_bot.factories import ChannelFactory, ProductFactory
from tests.support.platform_webhooks import meta_delivery, meta_entry, meta_message, meta_postback

pytestmark = pytest.mark.django_db

PSID = "PSID-E2E-1"


@pytest.fixture
def shop(tenants, fake_platform, webhook_settings, settings):
    settings.CELERY_TASK_EAGER_PROPAGATES = False  # a send's retry must not raise in eager mode
    channel = ChannelFactory(account=tenants.a, platform_specific_id="PAGE-E2E", channel_name="Acme Shop")
    mug = ProductFactory(account=tenants.a, name="Blue Mug", price=Decimal("12.50"), currency="USD")
    ProductFactory(account=tenants.a, name="Teapot", price=Decimal("30.00"), currency="USD")
    return channel, mug


def _sent(fake_platform) -> list[dict]:
    return [call.json["message"] for call in fake_platform.calls("graph.messages")]


def _customer_says(deliver, channel, **kwargs):
    event = meta_postback(channel.platform_specific_id, PSID, **kwargs) if "payload" in kwargs else (
        meta_message(channel.platform_specific_id, PSID, **kwargs))  # fmt: skip
    response = deliver("meta", meta_delivery([meta_entry(channel.platform_specific_id, [event])]))
    assert response.status_code == 200


def test_a_customer_orders_in_messenger_and_hears_of_the_status_change(
    tenants, shop, deliver, fake_platform, client, django_capture_on_commit_callbacks
):
    channel, mug = shop

    # when: the customer asks to order
    _customer_says(deliver, channel, text="Hi, I want to order")

    # then: a generic-template carousel of the catalog reached the Graph API, for this customer
    # (its text goes first as its own part, then the template)
    intro, carousel = _sent(fake_platform)
    assert intro == {"text": "Here is what we have. Choose a product to add it to your basket."}
    assert carousel["attachment"]["payload"]["template_type"] == "generic"
    assert [e["title"] for e in carousel["attachment"]["payload"]["elements"]] == ["Blue Mug", "Teapot"]
    assert fake_platform.calls("graph.messages")[0].json["recipient"] == {"id": PSID}

    # when: Buy, 2 from the quick replies, checkout, an address, confirm
    _customer_says(deliver, channel, title="Buy", payload=f"PRODUCT:{mug.pk}")
    _customer_says(deliver, channel, text="2", quick_reply=f"QTY:{mug.pk}:2")
    _customer_says(deliver, channel, text="Checkout", quick_reply="CHECKOUT")
    _customer_says(deliver, channel, text="Jane Doe\n1 Main St\nSpringfield")
    _customer_says(deliver, channel, text="Confirm", quick_reply="CONFIRM")

    # then: one order, priced from the catalog, and every answer went out once
    with account_context(tenants.a.id):
        [order] = Order.objects.all()
        conversation = Conversation.objects.get()
        bot_states = list(
            ConversationMessage.objects.filter(sender_type="BOT").values_list("delivery_state", flat=True)
        )
        platform_ids = set(
            ConversationMessage.objects.filter(sender_type="BOT").values_list("platform_message_id", flat=True)
        )
    assert (order.order_status, order.total_amount, order.currency) == ("PENDING", Decimal("25.00"), "USD")
    assert order.conversation_id == conversation.pk
    assert bot_states == ["sent"] * 6
    assert len(platform_ids) == 6 and "" not in platform_ids
    sent_before = len(_sent(fake_platform))
    assert "is placed" in _sent(fake_platform)[-1]["text"]

    # when: an agent confirms the order through the API
    client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "CONFIRMED"},
                               content_type="application/json")  # fmt: skip

    # then: the order moved, and the customer was told on Messenger
    assert response.status_code == 200, response.content
    with account_context(tenants.a.id):
        order.refresh_from_db()
        history = list(order.status_changes.values_list("from_status", "to_status", "actor_id"))
    assert order.order_status == "CONFIRMED"
    assert history[-1] == ("PENDING", "CONFIRMED", tenants.alice.pk)
    assert len(_sent(fake_platform)) == sent_before + 1
    assert "confirmed" in _sent(fake_platform)[-1]["text"].lower()


def test_a_redelivered_message_is_answered_once(tenants, shop, deliver, fake_platform):
    channel, _ = shop
    event = meta_message(channel.platform_specific_id, PSID, text="hello there", mid="m_once")

    for _ in range(3):
        deliver("meta", meta_delivery([meta_entry(channel.platform_specific_id, [event])]))

    with account_context(tenants.a.id):
        customer_messages = ConversationMessage.objects.filter(sender_type="CUSTOMER").count()
        answers = ConversationMessage.objects.filter(sender_type="BOT").count()
    assert (customer_messages, answers, len(_sent(fake_platform))) == (1, 1, 1)
