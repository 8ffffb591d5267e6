"""/api/v1/products/ (CRUD, search, CSV import) and /api/v1/orders/ (filters,
detail with items and history, transitions), with roles and outsiders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import Order, OrderStatusChange, Product
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import (
    ChannelFactory,
    CustomerFactory,
    OrderFactory,
    OrderItemFactory,
    OrderStatusChangeFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def _products(tenants) -> list[tuple]:
    with account_context(tenants.a.id):
        return sorted(Product.objects.filter(account=tenants.a).values_list("name", "sku", "price", "is_available"))


def test_a_member_creates_updates_and_deletes_a_product(api_client, tenants):
    api_client.force_login(tenants.bob)
    created = api_client.post("/api/v1/products/", {"name": "Pallet wrap", "price": "19.90", "currency": "usd",
                                                    "sku": "WRAP-1"}, format="json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["price"], body["currency"], body["is_available"]) == (
        "Pallet wrap",
        "19.90",
        "USD",
        True,
    )
    changed = api_client.patch(f"/api/v1/products/{body['id']}/", {"price": "21.00"}, format="json")
    assert changed.status_code == 200 and changed.json()["price"] == "21.00"
    assert _products(tenants) == [("Pallet wrap", "WRAP-1", Decimal("21.00"), True)]
    assert api_client.delete(f"/api/v1/products/{body['id']}/").status_code == 204
    assert _products(tenants) == []


def test_deleting_an_ordered_product_keeps_it_unavailable(api_client, tenants):
    item = OrderItemFactory(order=OrderFactory(customer=CustomerFactory(channel=ChannelFactory(account=tenants.a))))
    api_client.force_login(tenants.bob)
    response = api_client.delete(f"/api/v1/products/{item.product_id}/")
    assert response.status_code == 200
    assert response.json()["deleted"] is False and response.json()["product"]["is_available"] is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "X", "price": "-1", "currency": "USD"}, "price"),
        ({"name": "X", "price": "1", "currency": "US"}, "currency"),
        ({"price": "1", "currency": "USD"}, "name"),
    ],
)
def test_bad_products_are_400s_naming_the_field(api_client, tenants, data, field):
    api_client.force_login(tenants.bob)
    response = api_client.post("/api/v1/products/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert _products(tenants) == []


def test_a_viewer_cannot_write_products(api_client, tenants):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)
    response = api_client.post("/api/v1/products/", {"name": "X", "price": "1", "currency": "USD"}, format="json")
    assert response.status_code == 403
    assert _products(tenants) == []


def test_search_matches_words_and_parts_of_the_sku(api_client, tenants):
    ProductFactory(account=tenants.a, name="Pallet wrap", sku="WRAP-500", description="Stretch film")
    ProductFactory(account=tenants.a, name="Tape gun", sku="TAPE-GUN")
    ProductFactory(account=tenants.b, name="Foreign film")
    api_client.force_login(tenants.bob)
    assert [p["name"] for p in api_client.get("/api/v1/products/?search=film").json()["results"]] == ["Pallet wrap"]
    assert [p["name"] for p in api_client.get("/api/v1/products/?search=gun").json()["results"]] == ["Tape gun"]
    assert api_client.get("/api/v1/products/").json()["count"] == 2


def test_csv_import_creates_products_and_a_bad_file_names_its_lines(api_client, tenants):
    api_client.force_login(tenants.bob)
    good = SimpleUploadedFile("p.csv", b"name,price,currency,sku\nWrap,19.90,USD,W-1\nTape,9.90,USD,T-1\n")
    response = api_client.post("/api/v1/products/import/", {"file": good}, format="multipart")
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["updated"]) == (2, 0)
    bad = SimpleUploadedFile("p.csv", b"name,price,currency\nBox,abc,USD\n,1,USD\n")
    refused = api_client.post("/api/v1/products/import/", {"file": bad}, format="multipart")
    assert refused.status_code == 400
    assert [e["line"] for e in refused.json()["error"]["errors"]] == [2, 3]
    assert [p[0] for p in _products(tenants)] == ["Tape", "Wrap"]


@pytest.fixture
def orders(tenants):
    channel = ChannelFactory(account=tenants.a, channel_name="Acme Page")
    kim = CustomerFactory(channel=channel, full_name="Kim")
    pending = OrderFactory(customer=kim, total_amount=Decimal("39.80"))
    OrderItemFactory(order=pending, product=ProductFactory(account=tenants.a, name="Wrap", price=Decimal("19.90")),
                     quantity=2)  # fmt: skip
    OrderStatusChangeFactory(order=pending)
    shipped = OrderFactory(customer=CustomerFactory(channel=channel, full_name="Lee"), order_status="SHIPPED")
    return {"channel": channel, "kim": kim, "pending": pending, "shipped": shipped}


def test_orders_filter_by_status_and_customer(api_client, tenants, orders):
    api_client.force_login(tenants.bob)
    by_status = api_client.get("/api/v1/orders/?status=SHIPPED").json()["results"]
    assert [o["id"] for o in by_status] == [str(orders["shipped"].pk)]
    by_customer = api_client.get(f"/api/v1/orders/?customer={orders['kim'].pk}").json()["results"]
    assert [(o["id"], o["item_count"], o["customer"]["full_name"]) for o in by_customer] == [
        (str(orders["pending"].pk), 1, "Kim")
    ]
    assert api_client.get("/api/v1/orders/?status=LOST").status_code == 400


def test_an_order_shows_items_history_and_allowed_moves(api_client, tenants, orders):
    api_client.force_login(tenants.bob)
    body = api_client.get(f"/api/v1/orders/{orders['pending'].pk}/").json()
    assert [(i["product_name"], i["quantity"], i["line_total"]) for i in body["items"]] == [("Wrap", 2, "39.80")]
    assert [(h["from_status"], h["to_status"], h["actor_kind"]) for h in body["history"]] == [("", "PENDING", "bot")]
    assert body["allowed_transitions"] == ["CANCELLED", "CONFIRMED"]


def test_a_member_moves_an_order_and_a_bad_move_is_a_409(api_client, tenants, orders):
    api_client.force_login(tenants.bob)
    moved = api_client.post(f"/api/v1/orders/{orders['pending'].pk}/transition/",
                            {"status": "CONFIRMED", "note": "Paid"}, format="json")  # fmt: skip
    assert moved.status_code == 200
    assert moved.json()["order_status"] == "CONFIRMED"
    assert moved.json()["history"][-1]["actor"]["email"] == "bob@example.com"
    refused = api_client.post(f"/api/v1/orders/{orders['shipped'].pk}/transition/", {"status": "CANCELLED"},
                              format="json")  # fmt: skip
    assert refused.status_code == 409
    with account_context(tenants.a.id):
        assert Order.objects.get(pk=orders["shipped"].pk).order_status == "SHIPPED"
        assert OrderStatusChange.objects.filter(order=orders["shipped"]).count() == 0


def test_a_viewer_cannot_move_an_order(api_client, tenants, orders):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)
    response = api_client.post(f"/api/v1/orders/{orders['pending'].pk}/transition/", {"status": "CONFIRMED"},
                               format="json")  # fmt: skip
    assert response.status_code == 403
    with account_context(tenants.a.id):
        assert Order.objects.get(pk=orders["pending"].pk).order_status == "PENDING"


def test_another_accounts_order_and_product_are_404s(api_client, tenants, orders):
    foreign_order = OrderFactory(customer=CustomerFactory(channel=ChannelFactory(account=tenants.b)))
    foreign_product = ProductFactory(account=tenants.b)
    api_client.force_login(tenants.alice)
    assert api_client.get(f"/api/v1/orders/{foreign_order.pk}/").status_code == 404
    assert api_client.post(f"/api/v1/orders/{foreign_order.pk}/transition/", {"status": "CONFIRMED"},
                           format="json").status_code == 404  # fmt: skip
    assert api_client.patch(f"/api/v1/products/{foreign_product.pk}/", {"price": "0"}, format="json").status_code == 404
    assert api_client.delete(f"/api/v1/products/{foreign_product.pk}/").status_code == 404
    with account_context(tenants.b.id):
        assert Order.objects.get(pk=foreign_order.pk).order_status == "PENDING"
        assert Product.objects.filter(pk=foreign_product.pk).count() == 1
