"""Orders taken in conversations (seed 004 `Orders`, `OrderItems`).

`order_create` writes the order, its items (price and currency copied from
each product at that moment), the computed total and the first history row in
one transaction. Its refusals are `InvalidInput` whose message a customer
understands, because the bot shows it to them as is.

`order_transition` moves an order along `TRANSITIONS` (PENDING → CONFIRMED →
PROCESSING → SHIPPED; CANCELLED from any but SHIPPED) under a row lock,
records who and when, publishes "order.updated" and tells the customer on
their channel. A closed messaging window does not stop the move: the history
note says the customer was not told and the conversation is flagged for a
human.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from accounts.events import publish_on_commit
from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from channels_bot.models import (
    Conversation,
    ConversationMessage,
    Customer,
    Order,
    OrderItem,
    OrderStatusChange,
    Product,
)
from channels_bot.models.orders import TRANSITIONS
from channels_bot.rich import Outgoing

QUANTITY_MAX = 999
ITEMS_MAX = 50
ADDRESS_MAX_CHARS = 2000
# Currencies written without minor units (customers read "15,000 KRW", not "15000.00 KRW").
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                                     "VND", "VUV", "XAF", "XOF", "XPF"})  # fmt: skip

Actor = OrderStatusChange.Actor

# What the customer reads when their order moves (English; the bot's other texts are English too).
STATUS_MESSAGES = {
    Order.Status.CONFIRMED: "Good news: your order {number} is confirmed.",
    Order.Status.PROCESSING: "Your order {number} is being prepared.",
    Order.Status.SHIPPED: "Your order {number} has shipped. Thank you for shopping with us!",
    Order.Status.CANCELLED: "Your order {number} was cancelled. Reply here if you have any questions.",
}


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as a customer reads it: "19.90 USD", "15,000 KRW"."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{amount.quantize(Decimal('1')):,} {currency}"
    return f"{amount.quantize(Decimal('0.01')):,} {currency}"


def order_number(order: Order) -> str:
    """The short number a customer quotes ("#1A2B3C4D"): the start of the order's id."""
    return "#" + str(order.pk).replace("-", "")[:8].upper()


def _invalid(message: str, field: str = "items") -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("Please choose the quantity as a whole number, such as 1 or 2.")
    if value < 1:
        raise _invalid("Please choose a quantity of at least 1.")
    if value > QUANTITY_MAX:
        raise _invalid(f"Please choose at most {QUANTITY_MAX} of one product.")
    return value


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _actor_user(account: Account, actor: Any):
    """The user of `actor` (a Membership of this account, or a user), for the history row."""
    if actor is None:
        return None
    if isinstance(actor, Membership):
        if actor.account_id != account.id:
            raise Forbidden(gettext("You are not a member of this account."))
        return actor.user
    return actor


def _require_agent(account: Account, actor: Any) -> None:
    """Agents change orders as members or above; viewers are refused."""
    if actor is None:
        raise Forbidden(gettext("An agent's change needs the agent."))
    membership = actor if isinstance(actor, Membership) else (
        Membership.objects.filter(account=account, user=actor).first()
    )  # fmt: skip
    if membership is None or membership.account_id != account.id:
        raise Forbidden(gettext("You are not a member of this account."))
    if not Role(membership.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can see orders but not change them."))


def _address(value: Any, field: str, *, required: bool) -> dict:
    if value is None or value == {}:
        if required:
            raise _invalid("Please tell us the shipping address.", field)
        return {}
    if not isinstance(value, dict):
        raise _invalid("The address must be an object of text fields.", field)
    size = sum(len(str(k)) + len(str(v)) for k, v in value.items())
    if size > ADDRESS_MAX_CHARS:
        raise _invalid(f"The address is too long (at most {ADDRESS_MAX_CHARS} characters).", field)
    if required and not any(v and str(v).strip() for v in value.values()):
        raise _invalid("Please tell us the shipping address.", field)
    return value


def _event(order: Order) -> dict:
    return {
        "id": str(order.pk), "number": order_number(order), "status": order.order_status,
        "total_amount": str(order.total_amount), "currency": order.currency, "customer_id": str(order.customer_id),
        "channel_id": str(order.channel_id),
        "conversation_id": str(order.conversation_id) if order.conversation_id else None,
    }  # fmt: skip


def order_create(
    *,
    account: Account,
    customer: Customer,
    conversation: Conversation | None = None,
    items: Iterable[tuple[Any, Any]],
    shipping_address: dict,
    billing_address: dict | None = None,
    actor_kind: str,
    actor: Any = None,
) -> Order:
    """Create a PENDING order of `items` [(product id, quantity)] for `customer`.

    A product of another account is "not found" like a missing one; an unavailable
    product, a quantity that is not a positive whole number and items in more than
    one currency are refused (InvalidInput, a message the customer can read).
    """
    if actor_kind not in Actor.values:
        raise InvalidInput(
            gettext("Unknown actor kind '%(actor_kind)s'.") % {"actor_kind": actor_kind},
            fields={"actor_kind": ["Unknown."]},
        )
    if customer.account_id != account.id:
        raise NotFound(gettext("No such customer in this account."))
    if conversation is not None and (conversation.account_id != account.id or conversation.customer_id != customer.pk):
        raise NotFound(gettext("No such conversation for this customer."))
    wanted: dict[uuid.UUID, int] = {}
    for entry in list(items or []):
        try:
            product_id, quantity = entry
        except (TypeError, ValueError):
            raise _invalid("Each item is a product and a quantity.") from None
        quantity = _quantity(quantity)
        key = _uuid(product_id)
        if key is None:
            raise _invalid("Sorry, we could not find one of the products you chose.")
        wanted[key] = wanted.get(key, 0) + quantity
        if wanted[key] > QUANTITY_MAX:
            raise _invalid(f"Please choose at most {QUANTITY_MAX} of one product.")
    if not wanted:
        raise _invalid("Your basket is empty: please choose a product first.")
    if len(wanted) > ITEMS_MAX:
        raise _invalid(f"An order can have at most {ITEMS_MAX} different products.")
    shipping = _address(shipping_address, "shipping_address", required=True)
    billing = _address(billing_address, "billing_address", required=False)
    user = _actor_user(account, actor)

    with account_context(account.id), transaction.atomic():
        products = {p.pk: p for p in Product.objects.filter(account=account, pk__in=list(wanted))}
        for product_id in wanted:
            product = products.get(product_id)
            if product is None:
                raise _invalid("Sorry, we could not find one of the products you chose. It may have been removed.")
            if not product.is_available:
                raise _invalid(f"Sorry, “{product.name}” is not available right now.")
        currencies = {p.currency for p in products.values()}
        if len(currencies) > 1:
            listed = ", ".join(f"{p.name} in {p.currency}" for p in products.values())
            raise _invalid(
                f"Sorry, these products are priced in different currencies ({listed}), so they need separate orders."
            )
        currency = currencies.pop()
        total = sum((products[pid].price * q for pid, q in wanted.items()), Decimal("0"))
        order = Order.objects.create(
            account=account, customer=customer, channel_id=customer.channel_id, conversation=conversation,
            order_status=Order.Status.PENDING, total_amount=total, currency=currency, shipping_address=shipping,
            billing_address=billing,
        )  # fmt: skip
        OrderItem.objects.bulk_create([
            OrderItem(
                account=account, order=order, product=products[pid], quantity=q,
                price_at_purchase=products[pid].price, currency_at_purchase=products[pid].currency,
            )
            for pid, q in wanted.items()
        ])  # fmt: skip
        OrderStatusChange.objects.create(
            account=account, order=order, from_status="", to_status=Order.Status.PENDING, actor_kind=actor_kind,
            actor=user, note="Order placed.",
        )  # fmt: skip
        publish_on_commit(account.id, "order.created", _event(order))
    return order


def _conversation_of(order: Order) -> Conversation | None:
    if order.conversation_id:
        return Conversation.objects.filter(pk=order.conversation_id).select_related("channel", "customer").first()
    return (
        Conversation.objects.filter(account_id=order.account_id, customer_id=order.customer_id)
        .select_related("channel", "customer")
        .order_by("-last_message_at")
        .first()
    )


def _tell_customer(order: Order, to_status: str) -> tuple[ConversationMessage | None, str]:
    """Send the status message; (the message, "") or (None, why the customer was not told)."""
    from channels_bot.services.handoff import conversation_flag_for_human
    from channels_bot.services.outbound import WindowClosed, outgoing_create

    template = STATUS_MESSAGES.get(to_status)
    if template is None:
        return None, ""
    conversation = _conversation_of(order)
    if conversation is None:
        return None, "Customer not told: no conversation with them."
    text = template.format(number=order_number(order))
    try:
        with transaction.atomic():
            message = outgoing_create(
                conversation=conversation, outgoing=Outgoing(text=text), sender_type=ConversationMessage.Sender.BOT
            )
    except WindowClosed as exc:
        conversation_flag_for_human(conversation=conversation, reason=f"order {order_number(order)} {to_status}")
        return None, f"Customer not told: {exc.message}"
    return message, ""


def order_transition(*, order: Order, to_status: str, actor_kind: str, actor: Any = None, note: str = "") -> Order:
    """Move `order` to `to_status` if TRANSITIONS allows it (else Conflict 409 naming
    the allowed moves); agents need the member role. Records who and when, publishes
    "order.updated" and tells the customer on their channel."""
    if actor_kind not in Actor.values:
        raise InvalidInput(
            gettext("Unknown actor kind '%(actor_kind)s'.") % {"actor_kind": actor_kind},
            fields={"actor_kind": ["Unknown."]},
        )
    if to_status not in Order.Status.values:
        raise InvalidInput(
            gettext("'%(status)s' is not an order status; use one of %(statuses)s.")
            % {"status": to_status, "statuses": ", ".join(Order.Status.values)},
            fields={"to_status": ["Unknown status."]},
        )
    note = (note or "").strip()[:300]
    with account_context(order.account_id), transaction.atomic():
        account = Account.objects.get(pk=order.account_id)
        if actor_kind == Actor.AGENT:
            _require_agent(account, actor)
        user = _actor_user(account, actor)
        locked = Order.objects.select_for_update().filter(pk=order.pk).first()
        if locked is None:
            raise NotFound(gettext("No such order."))
        if not locked.can_move_to(to_status):
            allowed = sorted(TRANSITIONS[locked.order_status])
            raise Conflict(
                (
                    gettext("An order that is %(status)s cannot move to %(to_status)s; allowed: %(allowed)s.")
                    if allowed
                    else gettext("An order that is %(status)s cannot move to %(to_status)s; it cannot change any more.")
                )
                % {"status": locked.order_status, "to_status": to_status, "allowed": ", ".join(allowed)},
                code="invalid_transition",
                extra={"allowed": allowed},
            )
        from_status = locked.order_status
        locked.order_status = to_status
        locked.save(update_fields=["order_status", "updated_at"])
        _message, not_told = _tell_customer(locked, to_status)
        OrderStatusChange.objects.create(
            account_id=locked.account_id, order=locked, from_status=from_status, to_status=to_status,
            actor_kind=actor_kind, actor=user, note=" ".join(x for x in (note, not_told) if x)[:500],
        )  # fmt: skip
        publish_on_commit(locked.account_id, "order.updated", {**_event(locked), "from_status": from_status})
    for name in ("order_status", "updated_at"):
        setattr(order, name, getattr(locked, name))
    return order
