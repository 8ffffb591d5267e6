"""Writes from the inbox pages and the API that reach the platform or the
catalog and order services: take over / give back (Messenger handover on the
loopback Graph server), products (form, CSV import with line errors), order
transitions. Refusals are flash messages and change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, Order, Product
from tests.channels_bot.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    OrderFactory,
    OrderItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def conversation(tenants):
    channel = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    return ConversationFactory(customer=CustomerFactory(channel=channel, platform_customer_id="PSID-77"),
                               needs_human=True)  # fmt: skip


def test_take_over_and_give_back_from_the_page(tenants, conversation, fake_platform):
    client = _client(tenants.bob)

    # when bob takes over
    response = client.post(f"/inbox/conversations/{conversation.pk}/take-over/", follow=True)

    # then he answers, the bot is quiet, and Messenger passed the thread to the Page Inbox
    assert "You are answering this conversation" in response.content.decode()
    assert "Give back to bot" in response.content.decode()
    with account_context(tenants.a.id):
        stored = Conversation.objects.get(pk=conversation.pk)
    assert (stored.handler, stored.assigned_to_id, stored.needs_human) == ("human", tenants.bob.pk, False)
    assert len(fake_platform.calls("graph.pass_thread")) == 1

    # when he gives it back
    client.post(f"/inbox/conversations/{conversation.pk}/give-back/")

    # then the bot answers again and took the thread back
    with account_context(tenants.a.id):
        stored = Conversation.objects.get(pk=conversation.pk)
    assert (stored.handler, stored.assigned_to_id) == ("bot", None)
    assert len(fake_platform.calls("graph.take_thread")) == 1


def test_take_over_and_give_back_over_the_api(api_client, tenants, conversation, fake_platform):
    api_client.force_login(tenants.alice)
    taken = api_client.post(f"/api/v1/conversations/{conversation.pk}/take-over/").json()
    assert (taken["handler"], taken["assigned_to"]["email"], taken["needs_human"]) == (
        "human", "alice@example.com", False,
    )  # fmt: skip
    back = api_client.post(f"/api/v1/conversations/{conversation.pk}/give-back/").json()
    assert (back["handler"], back["assigned_to"]) == ("bot", None)


def test_a_product_is_added_with_the_form_and_a_bad_one_shows_its_errors(tenants):
    client = _client(tenants.bob)
    bad = client.post("/inbox/products/new/", {"name": "Wrap", "price": "-3", "currency": "USD"})
    assert bad.status_code == 400
    with account_context(tenants.a.id):
        assert Product.objects.filter(account=tenants.a).count() == 0
    good = client.post("/inbox/products/new/", {"name": "Wrap", "price": "19.90", "currency": "usd", "sku": "W-1",
                                                "is_available": "on"}, follow=True)  # fmt: skip
    assert "Added Wrap." in good.content.decode()
    with account_context(tenants.a.id):
        product = Product.objects.get(account=tenants.a)
    assert (product.name, product.price, product.currency, product.sku) == ("Wrap", Decimal("19.90"), "USD", "W-1")


def test_a_product_is_edited_and_deleted(tenants):
    product = ProductFactory(account=tenants.a, name="Wrap", sku="W-1")
    client = _client(tenants.bob)
    assert 'value="Wrap"' in client.get(f"/inbox/products/{product.pk}/").content.decode()
    client.post(f"/inbox/products/{product.pk}/", {"name": "Wrap XL", "price": "25.00", "currency": "USD",
                                                   "sku": "W-1"})  # fmt: skip
    with account_context(tenants.a.id):
        assert Product.objects.get(pk=product.pk).name == "Wrap XL"
    response = client.post(f"/inbox/products/{product.pk}/delete/", follow=True)
    assert "was deleted" in response.content.decode()
    with account_context(tenants.a.id):
        assert Product.objects.filter(pk=product.pk).count() == 0


def test_csv_import_on_the_page_lists_the_refused_lines_and_imports_nothing(tenants):
    client = _client(tenants.bob)
    bad = SimpleUploadedFile("p.csv", b"name,price,currency\nWrap,19.90,USD\nBox,abc,USD\n")
    html = client.post("/inbox/products/import/", {"file": bad}, follow=True).content.decode()
    assert "nothing was imported" in html
    assert "Line 3: price:" in html
    with account_context(tenants.a.id):
        assert Product.objects.filter(account=tenants.a).count() == 0
    good = SimpleUploadedFile("p.csv", b"name,price,currency\nWrap,19.90,USD\nBox,3.20,USD\n")
    html = client.post("/inbox/products/import/", {"file": good}, follow=True).content.decode()
    assert "Import: 2 created, 0 updated." in html


def test_the_order_page_moves_an_order_and_refuses_a_bad_move(tenants):
    order = OrderFactory(customer=CustomerFactory(channel=ChannelFactory(account=tenants.a)))
    OrderItemFactory(order=order)
    client = _client(tenants.bob)
    response = client.post(f"/inbox/orders/{order.pk}/transition/", {"status": "CONFIRMED", "note": "Paid"},
                           follow=True)  # fmt: skip
    html = response.content.decode()
    assert "Order moved to confirmed" in html and "— Paid" in html
    refused = client.post(f"/inbox/orders/{order.pk}/transition/", {"status": "PENDING"}, follow=True)
    assert "cannot move to PENDING" in refused.content.decode()
    with account_context(tenants.a.id):
        assert Order.objects.get(pk=order.pk).order_status == "CONFIRMED"
