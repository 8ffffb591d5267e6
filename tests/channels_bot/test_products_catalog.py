"""Catalog writes and search (channels_bot.services.products)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from channels_bot.models import Product
from channels_bot.services.products import (
    product_create,
    product_delete,
    product_search,
    product_update,
)
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import OrderItemFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _products(account) -> list[tuple[str, Decimal, str, str, bool]]:
    with account_context(account.id):
        return list(
            Product.objects.filter(account=account)
            .order_by("name")
            .values_list("name", "price", "currency", "sku", "is_available")
        )


def test_create_stores_the_cleaned_values(tenants):
    # when
    product = product_create(
        account=tenants.a, actor=tenants.bob_membership, name="  Blue Mug ", price="12.5", currency="usd", sku="MUG-1"
    )

    # then
    assert (product.name, product.price, product.currency, product.sku, product.is_available) == (
        "Blue Mug", Decimal("12.50"), "USD", "MUG-1", True,
    )  # fmt: skip
    assert _products(tenants.a) == [("Blue Mug", Decimal("12.50"), "USD", "MUG-1", True)]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "price": "1", "currency": "USD"}, "name", "A name is required."),
        ({"name": "x" * 201, "price": "1", "currency": "USD"}, "name", "At most 200 characters (201 given)."),
        ({"name": "Mug", "price": "-1", "currency": "USD"}, "price", "The price cannot be negative."),
        ({"name": "Mug", "price": "1.999", "currency": "USD"}, "price", "Use at most two decimal places."),
        ({"name": "Mug", "price": "abc", "currency": "USD"}, "price", "Enter the price as a number, such as 19.90."),
        ({"name": "Mug", "price": "1", "currency": "USS"}, "currency",
         "'USS' is not an ISO 4217 currency code; use one such as USD, EUR or KRW."),
        ({"name": "Mug", "price": "1"}, "currency", "This field is required."),
    ],
)  # fmt: skip
def test_create_refuses_invalid_input(tenants, data, field, message):
    # when
    with pytest.raises(InvalidInput) as err:
        product_create(account=tenants.a, actor=tenants.alice_membership, **data)

    # then
    assert err.value.fields[field] == [message]
    assert _products(tenants.a) == []


def test_duplicate_sku_in_the_same_account_is_a_conflict_but_another_account_may_use_it(tenants):
    # given
    product_create(account=tenants.a, actor=None, name="Mug", price="1", currency="USD", sku="S1")

    # when
    with pytest.raises(Conflict) as err:
        product_create(account=tenants.a, actor=None, name="Other", price="2", currency="USD", sku="S1")
    other = product_create(account=tenants.b, actor=None, name="Theirs", price="3", currency="USD", sku="S1")

    # then
    assert (err.value.status, err.value.code) == (409, "duplicate_sku")
    assert _products(tenants.a) == [("Mug", Decimal("1.00"), "USD", "S1", True)]
    assert other.sku == "S1"


def test_viewer_cannot_change_the_catalog(tenants):
    # given
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER)

    # when
    with pytest.raises(Forbidden):
        product_create(account=tenants.a, actor=viewer, name="Mug", price="1", currency="USD")

    # then
    assert _products(tenants.a) == []


def test_update_changes_only_the_given_fields_and_checks_the_sku(tenants):
    # given
    product = ProductFactory(account=tenants.a, name="Mug", price=Decimal("5.00"), sku="A")
    ProductFactory(account=tenants.a, name="Plate", sku="B")

    # when
    product_update(product=product, actor=tenants.bob_membership, price="6.25", is_available=False)
    with pytest.raises(Conflict):
        product_update(product=product, actor=tenants.bob_membership, sku="B")

    # then
    assert _products(tenants.a) == [
        ("Mug", Decimal("6.25"), "USD", "A", False),
        ("Plate", Decimal("19.90"), "USD", "B", True),
    ]


def test_delete_removes_an_unordered_product_and_keeps_an_ordered_one_unavailable(tenants):
    # given
    loose = ProductFactory(account=tenants.a, name="Loose", sku="L")
    ordered = OrderItemFactory(
        order__customer__channel__account=tenants.a, product=ProductFactory(account=tenants.a, name="Ordered", sku="O")
    ).product

    # when
    gone = product_delete(product=loose, actor=tenants.alice_membership)
    kept = product_delete(product=ordered, actor=tenants.alice_membership)

    # then
    assert (gone.deleted, gone.message) == (True, "“Loose” was deleted.")
    assert (kept.deleted, kept.message) == (
        False, "“Ordered” is part of past orders, so it was kept and marked unavailable instead of deleted.",
    )  # fmt: skip
    assert _products(tenants.a) == [("Ordered", Decimal("19.90"), "USD", "O", False)]


def test_search_ranks_full_text_matches_and_finds_partial_words(tenants):
    # given
    ProductFactory(account=tenants.a, name="Blue Mug", description="Ceramic, 300 ml.", sku="MUG-B")
    ProductFactory(account=tenants.a, name="Red Mug", description="A mug for tea, a mug for coffee.", sku="MUG-R")
    ProductFactory(account=tenants.a, name="Teapot", description="Cast iron.", sku="POT")
    ProductFactory(account=tenants.a, name="Hidden Mug", is_available=False, sku="MUG-H")
    ProductFactory(account=tenants.b, name="Their Mug", sku="MUG-T")

    # when
    mugs = [p.name for p in product_search(account=tenants.a, query="Do you have a mug?")]
    partial = [p.name for p in product_search(account=tenants.a, query="teap")]
    every = [p.name for p in product_search(account=tenants.a, query="mug", include_unavailable=True)]
    none = product_search(account=tenants.a, query="   ")

    # then
    assert mugs == ["Red Mug", "Blue Mug"]
    assert partial == ["Teapot"]
    assert sorted(every) == ["Blue Mug", "Hidden Mug", "Red Mug"]
    assert none == []


def test_search_finds_a_korean_name_with_a_particle_attached(tenants):
    # given
    ProductFactory(account=tenants.a, name="티셔츠", description="면 100%", sku="TS")
    ProductFactory(account=tenants.a, name="모자", description="", sku="CAP")

    # when
    found = [p.name for p in product_search(account=tenants.a, query="티셔츠를 사고 싶어요")]

    # then
    assert found == ["티셔츠"]
