"""Operators: the product and order admin (transitions through order_transition only)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from accounts.tenancy.context import account_context
from channels_bot.models import Order, Product
from channels_bot.services.orders import order_create
from tests.accounts.factories import UserFactory
from tests.channels_bot.factories import ProductFactory, open_conversation, record_sends

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops() -> Client:
    operator = UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True)
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    return client


@pytest.fixture
def order(tenants, monkeypatch):
    record_sends(monkeypatch)
    conversation = open_conversation(tenants.a)
    mug = ProductFactory(account=tenants.a, name="Admin Mug", price=Decimal("7.00"))
    return order_create(account=tenants.a, customer=conversation.customer, conversation=conversation,
                        items=[(mug.pk, 3)], shipping_address={"text": "1 Main St, Springfield"},
                        actor_kind="customer")  # fmt: skip


def test_the_order_page_shows_items_history_and_the_computed_total(ops, order):
    # when
    page = ops.get(f"/admin/channels_bot/order/{order.pk}/change/")
    listing = ops.get("/admin/channels_bot/order/")

    # then
    assert page.status_code == 200
    body = page.content.decode()
    assert "Admin Mug" in body and "Order placed." in body and "21.00 USD" in body
    assert listing.status_code == 200 and "21.00 USD" in listing.content.decode()


def test_an_action_moves_orders_through_the_allowed_transition_only(ops, order):
    # when
    moved = ops.post("/admin/channels_bot/order/", {"action": "move_to_confirmed", "_selected_action": [order.pk]})
    refused = ops.post("/admin/channels_bot/order/", {"action": "move_to_shipped", "_selected_action": [order.pk]})

    # then
    assert (moved.status_code, refused.status_code) == (302, 302)
    with account_context(order.account_id):
        row = Order.objects.get(pk=order.pk)
        history = list(row.status_changes.values_list("from_status", "to_status", "actor_kind", "note"))
    assert row.order_status == "CONFIRMED"
    assert history == [
        ("", "PENDING", "customer", "Order placed."),
        ("PENDING", "CONFIRMED", "system", "by operator ops@example.com in the admin"),
    ]


def test_the_product_admin_searches_and_validates(ops, tenants):
    # given
    ProductFactory(account=tenants.a, name="Searchable Teapot", sku="TP-1")
    ProductFactory(account=tenants.a, name="Other", sku="OT-1")

    # when
    found = ops.get("/admin/channels_bot/product/", {"q": "Teapot"})
    bad = ops.post("/admin/channels_bot/product/add/", {
        "account": str(tenants.a.pk), "name": "Cup", "description": "", "price": "1.999", "currency": "USS",
        "sku": "TP-1", "image_url": "", "is_available": "on",
    })  # fmt: skip

    # then
    assert found.status_code == 200
    assert "Searchable Teapot" in found.content.decode() and ">Other<" not in found.content.decode()
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "Another product of this account has this SKU." in body
    assert "is not an ISO 4217 currency code" in body
    with account_context(tenants.a.id):
        assert Product.objects.filter(account=tenants.a).count() == 2
