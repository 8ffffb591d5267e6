"""The order conversation: from "I want to order" to a created order.

Steps, kept in `Conversation.order_state`:

    {"step": "browsing" | "quantity" | "basket" | "address" | "confirm",
     "items": [{"product_id": "<uuid>", "quantity": 2}, ...],
     "product_id": "<uuid>",            # the product whose quantity is asked
     "address": {"text": "...", "lines": [...]},
     "last_order_id": "<uuid>"}          # after an order was placed

    words ("order", "buy", "menu", "products", "주문", "구매", "메뉴", "상품") or BROWSE
      -> carousel of up to 10 available products (Buy: PRODUCT:<id>, Details: DETAILS:<id>)
    PRODUCT:<id>        -> quantity quick replies QTY:<id>:1..5 (or a typed number)
    QTY:<id>:<n>        -> basket summary and total; ADD_MORE / CHECKOUT / CANCEL_ORDER
    CHECKOUT            -> asks for the shipping address (free text)
    the address         -> the order to confirm, with its total; CONFIRM / CANCEL_ORDER
    CONFIRM             -> `order_create`, the confirmation with the order number

A payload comes from a postback or quick-reply tap. On platforms without rich
messages (X, LinkedIn) the customer answers the numbered text of the previous
bot message with a number, which maps back to the payload of that choice
(`Outgoing.choice_payloads`).

`order_flow_answer` runs inside the caller's transaction (the conversation row
locked), so the new state, a created order and the bot's reply commit together
or not at all: a retried answer task can never place an order twice.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from aiplatform.errors import InvalidInput
from channels_bot.models import Conversation, ConversationMessage, Product
from channels_bot.models.platforms import Platform
from channels_bot.rich import CARD_TEXT_MAX, CARDS_MAX, QUICK_REPLY_TITLE_MAX, Button, Card, Outgoing, QuickReply, clip

from .orders import QUANTITY_MAX, money_text, order_create, order_number

# Platforms whose messages carry buttons and quick replies; the others get numbered text.
RICH_PLATFORMS = frozenset({Platform.FACEBOOK_PAGE, Platform.INSTAGRAM_BUSINESS})

BROWSE, ADD_MORE, CHECKOUT, CONFIRM, CANCEL = "BROWSE", "ADD_MORE", "CHECKOUT", "CONFIRM", "CANCEL_ORDER"
PRODUCT, DETAILS, QTY = "PRODUCT:", "DETAILS:", "QTY:"
QUICK_QUANTITIES = (1, 2, 3, 4, 5)

_START_WORDS = {"order", "orders", "buy", "menu", "products", "product", "shop", "catalog", "catalogue"}
_START_KO = ("주문", "구매", "메뉴", "상품")
_CANCEL_WORDS = {"cancel", "stop", "취소"}
_CONFIRM_WORDS = {"yes", "y", "confirm", "ok", "okay", "네", "예", "확인"}
_CHECKOUT_WORDS = {"checkout", "check out", "pay", "결제"}
_WORDS = re.compile(r"[\w']+", re.UNICODE)
_NUMBER = re.compile(r"^\s*[-+]?\d+(?:[.,]\d+)?\s*$")


# --- reading the customer --------------------------------------------------------------------


def inbound_payload(message: ConversationMessage) -> str:
    """The postback / quick-reply payload the inbound message carries ("" for plain text)."""
    data = message.payload or {}
    for key in ("payload", "postback", "quick_reply"):
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("payload")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _previous_bot_message(conversation: Conversation, message: ConversationMessage) -> ConversationMessage | None:
    return (
        ConversationMessage.objects.filter(
            conversation=conversation, sender_type=ConversationMessage.Sender.BOT, timestamp__lte=message.timestamp
        )
        .exclude(pk=message.pk)
        .order_by("-timestamp", "-id")
        .first()
    )


def _numbered_choice(conversation: Conversation, message: ConversationMessage, text: str) -> str:
    """On a platform without rich messages, "2" picks the second choice of the last bot message."""
    if conversation.channel.platform_type in RICH_PLATFORMS or not re.fullmatch(r"\s*\d{1,2}\s*[.)]?\s*", text):
        return ""
    previous = _previous_bot_message(conversation, message)
    if previous is None:
        return ""
    choices = Outgoing.from_payload(previous.content, previous.payload).choice_payloads()
    n = int(re.sub(r"\D", "", text))
    return choices[n - 1] if 1 <= n <= len(choices) else ""


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)}


def wants_to_order(text: str) -> bool:
    """True for the words that start the order flow (English and Korean)."""
    if _words(text) & _START_WORDS:
        return True
    return any(word in text for word in _START_KO)


# --- what the bot sends ----------------------------------------------------------------------


def _qr(title: str, payload: str) -> QuickReply:
    return QuickReply(title=clip(title, QUICK_REPLY_TITLE_MAX), payload=payload)


def _product(account_id, product_id: Any) -> Product | None:
    try:
        key = uuid.UUID(str(product_id))
    except ValueError:
        return None
    return Product.objects.filter(account_id=account_id, pk=key).first()


def _price(product: Product) -> str:
    return money_text(product.price, product.currency)


def _carousel(conversation: Conversation, intro: str = "") -> Outgoing:
    products = list(
        Product.objects.filter(account_id=conversation.account_id, is_available=True).order_by("name", "id")[:CARDS_MAX]
    )
    if not products:
        conversation.order_state = {k: v for k, v in conversation.order_state.items() if k == "last_order_id"}
        return Outgoing(text="Sorry, there is nothing to order right now. A member of our team can help you here.")
    cards = tuple(
        Card(
            title=clip(p.name, CARD_TEXT_MAX),
            subtitle=clip(f"{_price(p)}" + (f" · {p.description}" if p.description else ""), CARD_TEXT_MAX),
            image_url=p.image_url,
            buttons=(Button("Buy", payload=f"{PRODUCT}{p.pk}"), Button("Details", payload=f"{DETAILS}{p.pk}")),
        )
        for p in products
    )
    conversation.order_state = {**conversation.order_state, "step": "browsing"}
    conversation.order_state.pop("product_id", None)
    text = intro or "Here is what we have. Choose a product to add it to your basket."
    return Outgoing(text=text, cards=cards)


def _ask_quantity(conversation: Conversation, product: Product, intro: str = "") -> Outgoing:
    conversation.order_state = {**conversation.order_state, "step": "quantity", "product_id": str(product.pk)}
    text = (intro + " " if intro else "") + f"How many “{product.name}” ({_price(product)} each) would you like?"
    replies = tuple(_qr(str(n), f"{QTY}{product.pk}:{n}") for n in QUICK_QUANTITIES) + (_qr("Cancel", CANCEL),)
    return Outgoing(text=text, quick_replies=replies)


def _basket_lines(conversation: Conversation) -> tuple[list[str], Decimal, str]:
    """The basket as lines "2 × Mug — 39.80 USD", its total and currency (products re-read now)."""
    lines, total, currency = [], Decimal("0"), ""
    for item in conversation.order_state.get("items", []):
        product = _product(conversation.account_id, item["product_id"])
        if product is None:
            continue
        amount = product.price * item["quantity"]
        total += amount
        currency = currency or product.currency
        lines.append(f"{item['quantity']} × {product.name} — {money_text(amount, product.currency)}")
    return lines, total, currency


def _basket(conversation: Conversation, intro: str = "") -> Outgoing:
    lines, total, currency = _basket_lines(conversation)
    if not lines:
        return _carousel(conversation, "Your basket is empty. Here is what we have.")
    conversation.order_state = {**conversation.order_state, "step": "basket"}
    conversation.order_state.pop("product_id", None)
    text = "\n".join([intro or "Your basket:", *lines, f"Total: {money_text(total, currency)}"])
    replies = (_qr("Add more", ADD_MORE), _qr("Checkout", CHECKOUT), _qr("Cancel", CANCEL))
    return Outgoing(text=text, quick_replies=replies)


def _ask_address(conversation: Conversation) -> Outgoing:
    if not _basket_lines(conversation)[0]:
        return _carousel(conversation, "Your basket is empty. Here is what we have.")
    conversation.order_state = {**conversation.order_state, "step": "address"}
    return Outgoing(
        text="Where should we send your order? Please type the full shipping address "
        "(name, street, city, postal code, country).",
        quick_replies=(_qr("Cancel", CANCEL),),
    )


def _confirm(conversation: Conversation) -> Outgoing:
    lines, total, currency = _basket_lines(conversation)
    if not lines:
        return _carousel(conversation, "Your basket is empty. Here is what we have.")
    conversation.order_state = {**conversation.order_state, "step": "confirm"}
    address = conversation.order_state.get("address", {}).get("text", "")
    text = "\n".join(["Please check your order:", *lines, f"Total: {money_text(total, currency)}",
                      f"Ship to: {address}", "Shall we place it?"])  # fmt: skip
    return Outgoing(text=text, quick_replies=(_qr("Confirm", CONFIRM), _qr("Cancel", CANCEL)))


def _cancel(conversation: Conversation) -> Outgoing:
    had = bool(conversation.order_state.get("items"))
    conversation.order_state = {k: v for k, v in conversation.order_state.items() if k == "last_order_id"}
    text = "Your basket is cleared." if had else "Nothing to cancel: your basket is empty."
    return Outgoing(text=text + " Write “order” any time to start again.")


def _parse_quantity(text: str) -> int:
    """A typed quantity; InvalidInput with a polite message otherwise."""
    cleaned = text.strip()
    if not _NUMBER.match(cleaned) or "." in cleaned or "," in cleaned:
        raise InvalidInput(
            gettext("Please send the quantity as a number, such as 1 or 2."),
            fields={"quantity": ["Not a whole number."]},
        )
    value = int(cleaned)
    if value < 1:
        raise InvalidInput(gettext("Please choose a quantity of at least 1."), fields={"quantity": ["At least 1."]})
    if value > QUANTITY_MAX:
        raise InvalidInput(
            gettext("Please choose at most %(QUANTITY_MAX)s.") % {"QUANTITY_MAX": QUANTITY_MAX},
            fields={"quantity": [f"At most {QUANTITY_MAX}."]},
        )
    return value


def _add(conversation: Conversation, product_id: str, quantity_text: str) -> Outgoing:
    product = _product(conversation.account_id, product_id)
    if product is None:
        return _carousel(conversation, "Sorry, we could not find that product. Here is what we have.")
    if not product.is_available:
        return _carousel(conversation, f"Sorry, “{product.name}” is not available right now. Here is what we have.")
    try:
        quantity = _parse_quantity(quantity_text)
    except InvalidInput as exc:
        return _ask_quantity(conversation, product, intro=f"Sorry, {exc.message[0].lower()}{exc.message[1:]}")
    items = [dict(i) for i in conversation.order_state.get("items", [])]
    for item in items:
        other = _product(conversation.account_id, item["product_id"])
        if other is not None and other.currency != product.currency:
            conversation.order_state = {**conversation.order_state, "step": "basket"}
            return _basket(
                conversation,
                intro=f"Sorry, “{product.name}” is priced in {product.currency} and your basket in {other.currency}, "
                "so it needs a separate order. Your basket:",
            )
    for item in items:
        if item["product_id"] == str(product.pk):
            if item["quantity"] + quantity > QUANTITY_MAX:
                return _ask_quantity(conversation, product, intro=f"Sorry, at most {QUANTITY_MAX} of one product.")
            item["quantity"] += quantity
            break
    else:
        items.append({"product_id": str(product.pk), "quantity": quantity})
    conversation.order_state = {**conversation.order_state, "items": items}
    return _basket(conversation, intro=f"Added {quantity} × {product.name}. Your basket:")


def _place(conversation: Conversation) -> Outgoing:
    state = conversation.order_state
    if state.get("step") != "confirm" or not state.get("items"):
        if state.get("last_order_id") and not state.get("items"):
            return Outgoing(text="Your order is already placed. Write “order” to start a new one.")
        return _basket(conversation) if state.get("items") else _carousel(conversation, "Your basket is empty.")
    if not state.get("address"):
        return _ask_address(conversation)
    try:
        order = order_create(
            account=conversation.account, customer=conversation.customer, conversation=conversation,
            items=[(i["product_id"], i["quantity"]) for i in state["items"]], shipping_address=state["address"],
            actor_kind="customer",
        )  # fmt: skip
    except InvalidInput as exc:
        # e.g. a product became unavailable since it was added: drop what cannot be ordered.
        keep = []
        for item in state["items"]:
            product = _product(conversation.account_id, item["product_id"])
            if product is not None and product.is_available:
                keep.append(item)
        conversation.order_state = {**state, "items": keep}
        return _basket(conversation, intro=f"{exc.message} Your basket now:")
    conversation.order_state = {"last_order_id": str(order.pk)}
    return Outgoing(
        text=f"Thank you! Your order {order_number(order)} is placed. Total: "
        f"{money_text(order.total_amount, order.currency)}. We will message you here when it moves along."
    )


def _details(conversation: Conversation, product_id: str) -> Outgoing:
    product = _product(conversation.account_id, product_id)
    if product is None or not product.is_available:
        return _carousel(conversation, "Sorry, that product is not available right now. Here is what we have.")
    text = f"{product.name} — {_price(product)}" + (f"\n{product.description}" if product.description else "")
    return Outgoing(
        text=clip(text, 2000), image_url=product.image_url,
        quick_replies=(_qr("Buy", f"{PRODUCT}{product.pk}"), _qr("See all products", BROWSE)),
    )  # fmt: skip


def _on_payload(conversation: Conversation, payload: str) -> Outgoing | None:
    if payload in (BROWSE, ADD_MORE):
        return _carousel(conversation)
    if payload == CHECKOUT:
        return _ask_address(conversation)
    if payload == CONFIRM:
        return _place(conversation)
    if payload == CANCEL:
        return _cancel(conversation)
    if payload.startswith(PRODUCT):
        product = _product(conversation.account_id, payload[len(PRODUCT) :])
        if product is None:
            return _carousel(conversation, "Sorry, we could not find that product. Here is what we have.")
        if not product.is_available:
            return _carousel(conversation, f"Sorry, “{product.name}” is not available right now. Here is what we have.")
        return _ask_quantity(conversation, product)
    if payload.startswith(DETAILS):
        return _details(conversation, payload[len(DETAILS) :])
    if payload.startswith(QTY):
        product_id, _, quantity = payload[len(QTY) :].rpartition(":")
        return _add(conversation, product_id, quantity)
    return None


def _on_text(conversation: Conversation, text: str) -> Outgoing | None:
    state = conversation.order_state or {}
    step = state.get("step", "")
    words = _words(text)
    if step and words & _CANCEL_WORDS:
        return _cancel(conversation)
    if step == "quantity":
        return _add(conversation, state.get("product_id", ""), text)
    if step == "address":
        address = text.strip()
        if len(address) < 8:
            return Outgoing(
                text="Sorry, that looks too short for an address. Please type the full shipping address "
                "(name, street, city, postal code, country).",
                quick_replies=(_qr("Cancel", CANCEL),),
            )
        lines = [line.strip() for line in re.split(r"[\n;]+", address) if line.strip()]
        conversation.order_state = {**state, "address": {"text": address[:1000], "lines": lines[:10]}}
        return _confirm(conversation)
    if step == "confirm":
        if words & _CONFIRM_WORDS:
            return _place(conversation)
        return _confirm(conversation)
    if step == "basket" and (words & _CHECKOUT_WORDS or "check out" in text.lower()):
        return _ask_address(conversation)
    if wants_to_order(text):
        return _basket(conversation) if state.get("items") and step == "basket" else _carousel(conversation)
    return None


def order_flow_answer(*, conversation: Conversation, message: ConversationMessage) -> Outgoing | None:
    """The bot's reply when `message` belongs to the order conversation (the new state
    saved on `conversation`), or None when it does not (the AI answers it).
    Call inside a transaction in the account's context, the conversation row locked."""
    text = message.content or ""
    payload = inbound_payload(message) or _numbered_choice(conversation, message, text)
    before = dict(conversation.order_state or {})
    conversation.order_state = dict(before)
    outgoing = _on_payload(conversation, payload) if payload else None
    if outgoing is None:
        outgoing = _on_text(conversation, text)
    if outgoing is None:
        conversation.order_state = before
        return None
    if conversation.order_state != before:
        Conversation.objects.filter(pk=conversation.pk).update(order_state=conversation.order_state)
    return outgoing
