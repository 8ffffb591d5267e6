"""order_create: one transaction, prices copied, total computed, refusals a customer understands."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput, NotFound
from channels_bot.models import Order, OrderItem, OrderStatusChange
from channels_bot.services.orders import order_create
from tests.channels_bot.factories import ProductFactory, open_conversation

pytestmark = pytest.mark.django_db

ADDRESS = {"text": "Jane Doe, 1 Main St, Springfield 12345"}


def _counts(account) -> tuple[int, int, int]:
    with account_context(account.id):
        return (
            Order.objects.filter(account=account).count(),
            OrderItem.objects.filter(account=account).count(),
            OrderStatusChange.objects.filter(account=account).count(),
        )


def test_an_order_copies_prices_and_computes_the_total(tenants, django_capture_on_commit_callbacks):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a, name="Mug", price=Decimal("12.50"), currency="USD")
    pot = ProductFactory(account=tenants.a, name="Pot", price=Decimal("30.00"), currency="USD")

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        order = order_create(
            account=tenants.a, customer=conversation.customer, conversation=conversation,
            items=[(mug.pk, 2), (str(pot.pk), 1), (mug.pk, 1)], shipping_address=ADDRESS, actor_kind="customer",
        )  # fmt: skip

    # then
    with account_context(tenants.a.id):
        order.refresh_from_db()
        items = sorted(order.items.values_list("product__name", "quantity", "price_at_purchase",
                                               "currency_at_purchase"))  # fmt: skip
        history = list(order.status_changes.values_list("from_status", "to_status", "actor_kind"))
    assert (order.order_status, order.total_amount, order.currency) == ("PENDING", Decimal("67.50"), "USD")
    assert (order.channel_id, order.conversation_id, order.shipping_address) == (
        conversation.channel_id, conversation.pk, ADDRESS,
    )  # fmt: skip
    assert items == [("Mug", 3, Decimal("12.50"), "USD"), ("Pot", 1, Decimal("30.00"), "USD")]
    assert history == [("", "PENDING", "customer")]
    assert len(callbacks) == 1  # the "order.created" event, after commit


def test_a_later_price_change_does_not_touch_the_order(tenants):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a, price=Decimal("10.00"))
    order = order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, 2)],
                         shipping_address=ADDRESS, actor_kind="bot")  # fmt: skip

    # when
    with account_context(tenants.a.id):
        type(mug).objects.filter(pk=mug.pk).update(price=Decimal("99.00"))
        item = order.items.get()
        order.refresh_from_db()

    # then
    assert (item.price_at_purchase, order.total_amount) == (Decimal("10.00"), Decimal("20.00"))


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "Please choose a quantity of at least 1."),
        (-1, "Please choose a quantity of at least 1."),
        ("abc", "Please choose the quantity as a whole number, such as 1 or 2."),
        (1.5, "Please choose the quantity as a whole number, such as 1 or 2."),
        (True, "Please choose the quantity as a whole number, such as 1 or 2."),
    ],
)
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(tenants, quantity, message):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a)

    # when
    with pytest.raises(InvalidInput) as err:
        order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, quantity)],
                     shipping_address=ADDRESS, actor_kind="customer")  # fmt: skip

    # then
    assert (err.value.message, err.value.fields) == (message, {"items": [message]})
    assert _counts(tenants.a) == (0, 0, 0)


def test_an_unavailable_product_is_refused(tenants):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a, name="Mug")
    gone = ProductFactory(account=tenants.a, name="Old Teapot", is_available=False)

    # when
    with pytest.raises(InvalidInput) as err:
        order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, 1), (gone.pk, 1)],
                     shipping_address=ADDRESS, actor_kind="customer")  # fmt: skip

    # then
    assert err.value.message == "Sorry, “Old Teapot” is not available right now."
    assert _counts(tenants.a) == (0, 0, 0)


@pytest.mark.parametrize("whose", ["other_account", "missing", "not_an_id"])
def test_another_accounts_product_is_not_found_like_a_missing_one(tenants, whose):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a)
    product_id = {
        "other_account": ProductFactory(account=tenants.b).pk, "missing": uuid.uuid4(), "not_an_id": "12; drop",
    }[whose]  # fmt: skip

    # when
    with pytest.raises(InvalidInput) as err:
        order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, 1), (product_id, 1)],
                     shipping_address=ADDRESS, actor_kind="customer")  # fmt: skip

    # then
    assert err.value.message.startswith("Sorry, we could not find one of the products you chose.")
    assert _counts(tenants.a) == (0, 0, 0)
    assert _counts(tenants.b) == (0, 0, 0)


def test_items_in_two_currencies_are_refused(tenants):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a, name="Mug", currency="USD")
    shirt = ProductFactory(account=tenants.a, name="Shirt", currency="KRW", price=Decimal("15000"))

    # when
    with pytest.raises(InvalidInput) as err:
        order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, 1), (shirt.pk, 1)],
                     shipping_address=ADDRESS, actor_kind="customer")  # fmt: skip

    # then
    assert err.value.message == (
        "Sorry, these products are priced in different currencies (Mug in USD, Shirt in KRW), "
        "so they need separate orders."
    )
    assert _counts(tenants.a) == (0, 0, 0)


def test_a_customer_of_another_account_is_not_found(tenants):
    # given
    theirs = open_conversation(tenants.b)
    mug = ProductFactory(account=tenants.a)

    # when
    with pytest.raises(NotFound):
        order_create(account=tenants.a, customer=theirs.customer, items=[(mug.pk, 1)], shipping_address=ADDRESS,
                     actor_kind="customer")  # fmt: skip

    # then
    assert _counts(tenants.a) == (0, 0, 0)


def test_an_empty_basket_or_address_is_refused(tenants):
    # given
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a)

    # when
    with pytest.raises(InvalidInput) as empty:
        order_create(account=tenants.a, customer=conversation.customer, items=[], shipping_address=ADDRESS,
                     actor_kind="customer")  # fmt: skip
    with pytest.raises(InvalidInput) as no_address:
        order_create(account=tenants.a, customer=conversation.customer, items=[(mug.pk, 1)],
                     shipping_address={"text": "  "}, actor_kind="customer")  # fmt: skip

    # then
    assert empty.value.message == "Your basket is empty: please choose a product first."
    assert no_address.value.fields == {"shipping_address": ["Please tell us the shipping address."]}
    assert _counts(tenants.a) == (0, 0, 0)
