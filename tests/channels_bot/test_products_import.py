"""CSV import of the catalog: all or nothing, per-line errors, upsert by SKU."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput
from channels_bot.models import Product
from channels_bot.services import products as catalog
from channels_bot.services.products import products_import_csv
from tests.channels_bot.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _rows(account):
    with account_context(account.id):
        return list(
            Product.objects.filter(account=account)
            .order_by("name")
            .values_list("name", "price", "currency", "sku", "is_available", "description")
        )


def test_a_good_file_with_a_bom_creates_and_updates_by_sku(tenants):
    # given
    ProductFactory(account=tenants.a, name="Old Mug", price=Decimal("5.00"), sku="MUG", description="old")
    data = (
        "\ufeffname,description,price,currency,sku,image_url,is_available\n"
        'Blue Mug,"Ceramic, 300 ml",12.50,usd,MUG,https://cdn.example.com/mug.jpg,yes\n'
        "티셔츠,면 100%,15000,KRW,TS-1,,\n"
        "Teapot,,30,USD,,,false\n"
    ).encode("utf-8")

    # when
    result = products_import_csv(account=tenants.a, actor=tenants.bob_membership, file=io.BytesIO(data))

    # then
    assert (result.created, result.updated, result.rows) == (2, 1, 3)
    assert _rows(tenants.a) == [
        ("Blue Mug", Decimal("12.50"), "USD", "MUG", True, "Ceramic, 300 ml"),
        ("Teapot", Decimal("30.00"), "USD", "", False, ""),
        ("티셔츠", Decimal("15000.00"), "KRW", "TS-1", True, "면 100%"),
    ]


def test_a_bad_file_imports_nothing_and_names_every_line(tenants):
    # given
    data = b"name,price,currency,sku\nGood,1.00,USD,G1\n,2.00,USD,G2\nCheap,-3,EUR,G3\nDup,4.00,ABC,G1\n"

    # when
    with pytest.raises(InvalidInput) as err:
        products_import_csv(account=tenants.a, actor=None, file=io.BytesIO(data))

    # then
    assert err.value.message == "The file has 4 errors; nothing was imported. Fix them and upload it again."
    assert err.value.extra["errors"] == [
        {"line": 3, "field": "name", "message": "A name is required."},
        {"line": 4, "field": "price", "message": "The price cannot be negative."},
        {"line": 5, "field": "currency",
         "message": "'ABC' is not an ISO 4217 currency code; use one such as USD, EUR or KRW."},
        {"line": 5, "field": "sku", "message": "The SKU 'G1' is already on line 2."},
    ]  # fmt: skip
    assert _rows(tenants.a) == []


def test_missing_and_unknown_columns_are_refused(tenants):
    # when
    with pytest.raises(InvalidInput) as err:
        products_import_csv(account=tenants.a, actor=None, file=io.BytesIO(b"title,price\nMug,1\n"))

    # then
    assert err.value.extra["errors"] == [
        {"line": 1, "field": "title",
         "message": "Unknown column; use name, description, price, currency, sku, image_url, is_available."},
        {"line": 1, "field": "name", "message": "This column is required."},
        {"line": 1, "field": "currency", "message": "This column is required."},
    ]  # fmt: skip
    assert _rows(tenants.a) == []


def test_a_file_that_is_not_utf8_is_refused(tenants):
    # when
    with pytest.raises(InvalidInput) as err:
        data = "name,price,currency\nCafé,1,EUR\n".encode("cp1252")
        products_import_csv(account=tenants.a, actor=None, file=io.BytesIO(data))

    # then
    assert err.value.message == "The file is not UTF-8 text (line 2). Save it as “CSV UTF-8” and upload it again."
    assert _rows(tenants.a) == []


def test_more_rows_than_allowed_are_refused(tenants, monkeypatch):
    # given
    monkeypatch.setattr(catalog, "IMPORT_MAX_ROWS", 2)
    data = b"name,price,currency\nA,1,USD\nB,1,USD\nC,1,USD\n"

    # when
    with pytest.raises(InvalidInput) as err:
        products_import_csv(account=tenants.a, actor=None, file=io.BytesIO(data))

    # then
    assert err.value.extra["errors"] == [{"line": 4, "field": "", "message": "At most 2 rows per file."}]
    assert _rows(tenants.a) == []
