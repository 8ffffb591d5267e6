"""The order conversation through bot_answer: carousel, quantity, basket, address, confirm, order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, ConversationMessage, Order
from channels_bot.services.bot import bot_answer
from channels_bot.services.orders import order_number
from tests.channels_bot.factories import ConversationMessageFactory, ProductFactory, open_conversation, record_sends

pytestmark = pytest.mark.django_db

ADDRESS = "Jane Doe\n1 Main St\nSpringfield 12345"


@pytest.fixture
def sent(monkeypatch):
    return record_sends(monkeypatch)


def say(conversation, text="", *, postback=None, quick_reply=None):
    """The customer writes (or taps); the bot answers. Returns the bot's reply or None."""
    payload = {"postback": postback} if postback else ({"quick_reply": quick_reply} if quick_reply else {})
    message = ConversationMessageFactory(conversation=conversation, content=text, payload=payload)
    reply = bot_answer(account_id=str(conversation.account_id), message_id=str(message.pk))
    if reply is not None:
        with account_context(conversation.account_id):
            reply.refresh_from_db()
    return reply


def _state(conversation):
    with account_context(conversation.account_id):
        return Conversation.objects.get(pk=conversation.pk).order_state


def _orders(account):
    with account_context(account.id):
        return list(Order.objects.filter(account=account))


@pytest.fixture
def shop(tenants):
    mug = ProductFactory(account=tenants.a, name="Blue Mug", price=Decimal("12.50"), currency="USD",
                         description="Ceramic, 300 ml", image_url="https://cdn.example.com/mug.jpg")  # fmt: skip
    pot = ProductFactory(account=tenants.a, name="Teapot", price=Decimal("30.00"), currency="USD", description="")
    ProductFactory(account=tenants.a, name="Sold out", is_available=False)
    return mug, pot


def test_a_full_conversation_from_a_message_to_an_order(tenants, shop, sent):
    # given
    mug, pot = shop
    conversation = open_conversation(tenants.a)

    # when: the customer asks to order
    carousel = say(conversation, "Hi, I'd like to order")

    # then: a carousel of the available products
    assert carousel.content_type == "CAROUSEL"
    assert carousel.payload["cards"] == [
        {"title": "Blue Mug", "subtitle": "12.50 USD · Ceramic, 300 ml", "image_url": "https://cdn.example.com/mug.jpg",
         "buttons": [{"title": "Buy", "payload": f"PRODUCT:{mug.pk}", "url": ""},
                     {"title": "Details", "payload": f"DETAILS:{mug.pk}", "url": ""}]},
        {"title": "Teapot", "subtitle": "30.00 USD", "image_url": "",
         "buttons": [{"title": "Buy", "payload": f"PRODUCT:{pot.pk}", "url": ""},
                     {"title": "Details", "payload": f"DETAILS:{pot.pk}", "url": ""}]},
    ]  # fmt: skip

    # when: Buy on the mug, then 2 from the quick replies
    ask = say(conversation, "Buy", postback=f"PRODUCT:{mug.pk}")
    basket = say(conversation, "2", quick_reply=f"QTY:{mug.pk}:2")

    # then
    assert ask.content == "How many “Blue Mug” (12.50 USD each) would you like?"
    assert [q["payload"] for q in ask.payload["quick_replies"]] == [
        *(f"QTY:{mug.pk}:{n}" for n in range(1, 6)),
        "CANCEL_ORDER",
    ]
    assert basket.content == "Added 2 × Blue Mug. Your basket:\n2 × Blue Mug — 25.00 USD\nTotal: 25.00 USD"
    assert [q["payload"] for q in basket.payload["quick_replies"]] == ["ADD_MORE", "CHECKOUT", "CANCEL_ORDER"]

    # when: add a teapot with a typed quantity, then check out
    say(conversation, "Add more", quick_reply="ADD_MORE")
    say(conversation, "Buy", postback=f"PRODUCT:{pot.pk}")
    basket = say(conversation, "1")
    address_question = say(conversation, "Checkout", quick_reply="CHECKOUT")
    confirm = say(conversation, ADDRESS)

    # then
    assert basket.content == (
        "Added 1 × Teapot. Your basket:\n2 × Blue Mug — 25.00 USD\n1 × Teapot — 30.00 USD\nTotal: 55.00 USD"
    )
    assert address_question.content.startswith("Where should we send your order?")
    assert confirm.content == (
        "Please check your order:\n2 × Blue Mug — 25.00 USD\n1 × Teapot — 30.00 USD\nTotal: 55.00 USD\n"
        f"Ship to: {ADDRESS}\nShall we place it?"
    )
    assert _orders(tenants.a) == []

    # when: confirm
    done = say(conversation, "Confirm", quick_reply="CONFIRM")

    # then: one order with its items, prices copied, total computed
    [order] = _orders(tenants.a)
    with account_context(tenants.a.id):
        items = sorted(order.items.values_list("product__name", "quantity", "price_at_purchase",
                                               "currency_at_purchase"))  # fmt: skip
    assert (order.order_status, order.total_amount, order.currency, order.conversation_id) == (
        "PENDING", Decimal("55.00"), "USD", conversation.pk,
    )  # fmt: skip
    assert order.shipping_address == {"text": ADDRESS, "lines": ["Jane Doe", "1 Main St", "Springfield 12345"]}
    assert items == [("Blue Mug", 2, Decimal("12.50"), "USD"), ("Teapot", 1, Decimal("30.00"), "USD")]
    assert done.content == (
        f"Thank you! Your order {order_number(order)} is placed. Total: 55.00 USD. "
        "We will message you here when it moves along."
    )
    assert _state(conversation) == {"last_order_id": str(order.pk)}
    assert len(sent) == 9  # every answer went out, once

    # when: a second tap on Confirm
    again = say(conversation, "Confirm", quick_reply="CONFIRM")

    # then: no second order
    assert again.content == "Your order is already placed. Write “order” to start a new one."
    assert len(_orders(tenants.a)) == 1


def test_numbered_text_ordering_on_x(tenants, shop, sent):
    # given
    mug, pot = shop
    conversation = open_conversation(tenants.a, platform="TWITTER_PROFILE")

    # when: "menu", then the customer answers each numbered list by number
    menu = say(conversation, "menu")
    ask = say(conversation, "2")  # 2. Teapot
    basket = say(conversation, "3")  # 3 (of the quick quantities 1-5)
    address_question = say(conversation, "2")  # 1. Add more 2. Checkout 3. Cancel
    confirm = say(conversation, "42 Harbour Road, Busan 48058")
    done = say(conversation, "1")  # 1. Confirm 2. Cancel

    # then
    assert menu.payload["cards"][1]["title"] == "Teapot"
    assert ask.content == "How many “Teapot” (30.00 USD each) would you like?"
    assert basket.content == "Added 3 × Teapot. Your basket:\n3 × Teapot — 90.00 USD\nTotal: 90.00 USD"
    assert address_question.content.startswith("Where should we send your order?")
    assert confirm.content.endswith("Ship to: 42 Harbour Road, Busan 48058\nShall we place it?")
    [order] = _orders(tenants.a)
    assert (order.total_amount, order.currency) == (Decimal("90.00"), "USD")
    assert done.content.startswith(f"Thank you! Your order {order_number(order)} is placed. Total: 90.00 USD.")


@pytest.mark.parametrize(
    ("typed", "sorry"),
    [
        ("0", "Sorry, please choose a quantity of at least 1."),
        ("-1", "Sorry, please choose a quantity of at least 1."),
        ("abc", "Sorry, please send the quantity as a number, such as 1 or 2."),
        ("2.5", "Sorry, please send the quantity as a number, such as 1 or 2."),
    ],
)
def test_a_bad_quantity_is_refused_politely_and_asked_again(tenants, shop, sent, typed, sorry):
    # given
    mug, _ = shop
    conversation = open_conversation(tenants.a)
    say(conversation, "order")
    say(conversation, "Buy", postback=f"PRODUCT:{mug.pk}")

    # when
    reply = say(conversation, typed)

    # then
    assert reply.content == f"{sorry} How many “Blue Mug” (12.50 USD each) would you like?"
    assert _state(conversation) == {"step": "quantity", "product_id": str(mug.pk)}
    assert _orders(tenants.a) == []


def test_a_quantity_payload_of_zero_is_refused_too(tenants, shop, sent):
    # given
    mug, _ = shop
    conversation = open_conversation(tenants.a)

    # when
    reply = say(conversation, "0", quick_reply=f"QTY:{mug.pk}:0")

    # then
    assert reply.content.startswith("Sorry, please choose a quantity of at least 1.")
    assert _state(conversation).get("items") is None


def test_an_unavailable_product_is_refused(tenants, shop, sent):
    # given
    conversation = open_conversation(tenants.a)
    sold_out = ProductFactory(account=tenants.a, name="Old Kettle", is_available=False)

    # when
    reply = say(conversation, "Buy", postback=f"PRODUCT:{sold_out.pk}")

    # then
    assert reply.content == "Sorry, “Old Kettle” is not available right now. Here is what we have."
    assert [c["title"] for c in reply.payload["cards"]] == ["Blue Mug", "Teapot"]
    assert _state(conversation) == {"step": "browsing"}


def test_another_accounts_product_is_not_found_and_nothing_is_created(tenants, shop, sent):
    # given
    conversation = open_conversation(tenants.a)
    theirs = ProductFactory(account=tenants.b, name="Their Mug")

    # when
    reply = say(conversation, "Buy", postback=f"PRODUCT:{theirs.pk}")
    quantity = say(conversation, "1", quick_reply=f"QTY:{theirs.pk}:1")

    # then
    assert reply.content == "Sorry, we could not find that product. Here is what we have."
    assert quantity.content == "Sorry, we could not find that product. Here is what we have."
    assert "Their Mug" not in str(reply.payload)
    assert _state(conversation) == {"step": "browsing"}
    assert _orders(tenants.a) == [] and _orders(tenants.b) == []


def test_a_product_in_another_currency_is_refused_from_the_basket(tenants, shop, sent):
    # given
    mug, _ = shop
    shirt = ProductFactory(account=tenants.a, name="티셔츠", price=Decimal("15000"), currency="KRW")
    conversation = open_conversation(tenants.a)
    say(conversation, "2", quick_reply=f"QTY:{mug.pk}:2")

    # when
    reply = say(conversation, "1", quick_reply=f"QTY:{shirt.pk}:1")

    # then
    assert reply.content == (
        "Sorry, “티셔츠” is priced in KRW and your basket in USD, so it needs a separate order. Your basket:\n"
        "2 × Blue Mug — 25.00 USD\nTotal: 25.00 USD"
    )
    assert _state(conversation)["items"] == [{"product_id": str(mug.pk), "quantity": 2}]


def test_korean_words_start_the_order_flow_and_cancel_clears_the_basket(tenants, shop, sent):
    # given
    mug, _ = shop
    conversation = open_conversation(tenants.a)

    # when
    carousel = say(conversation, "상품 보여주세요")
    say(conversation, "1", quick_reply=f"QTY:{mug.pk}:1")
    cancelled = say(conversation, "Cancel", quick_reply="CANCEL_ORDER")

    # then
    assert carousel.content_type == "CAROUSEL"
    assert cancelled.content == "Your basket is cleared. Write “order” any time to start again."
    assert _state(conversation) == {}


def test_a_message_handled_by_a_human_gets_no_answer(tenants, shop, sent):
    # given
    conversation = open_conversation(tenants.a, handler=Conversation.Handler.HUMAN)

    # when
    reply = say(conversation, "order")

    # then
    assert reply is None
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(conversation=conversation, sender_type="BOT").count() == 0
    assert sent == []


def test_a_paused_channel_or_a_gone_message_gets_no_answer(tenants, shop, sent):
    # given
    conversation = open_conversation(tenants.a)
    with account_context(tenants.a.id):
        type(conversation.channel).objects.filter(pk=conversation.channel_id).update(is_active=False)

    # when
    reply = say(conversation, "order")
    gone = bot_answer(account_id=str(tenants.a.id), message_id="0b8e7f9c-0000-4000-8000-000000000000")

    # then
    assert (reply, gone, sent) == (None, None, [])


def test_answering_the_same_message_twice_answers_once(tenants, shop, sent):
    # given
    conversation = open_conversation(tenants.a)
    message = ConversationMessageFactory(conversation=conversation, content="order")

    # when
    first = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))
    second = bot_answer(account_id=str(tenants.a.id), message_id=str(message.pk))

    # then
    assert first is not None and second is None
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(reply_to=message).count() == 1
    assert sent == [first.pk]
