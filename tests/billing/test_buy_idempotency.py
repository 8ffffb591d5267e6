"""Buying credits is one service for the API and the wallet page (issue 18): the
page's form carries an idempotency key, so a double submit opens one checkout."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.tenancy.context import account_context
from billing.models import Payment

pytestmark = pytest.mark.django_db


def _payments(tenants) -> list[Payment]:
    with account_context(tenants.a.id):
        return list(Payment.objects.filter(account=tenants.a))


def test_the_wallet_page_double_submit_opens_one_checkout(tenants):
    # given alice (owner) on the wallet page, whose buy forms carry one key
    client = Client()
    client.force_login(tenants.alice)
    page = client.get("/billing/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)

    # when the small pack's form is sent twice with that key
    first = client.post("/billing/buy/", {"pack": "small", "idempotency_key": key})
    second = client.post("/billing/buy/", {"pack": "small", "idempotency_key": key})

    # then one payment exists and both answers lead to its checkout
    payments = _payments(tenants)
    assert len(payments) == 1
    assert first["Location"] == second["Location"] == payments[0].checkout_url


def test_the_same_page_key_for_another_pack_is_refused_on_the_page(tenants):
    client = Client()
    client.force_login(tenants.alice)
    client.post("/billing/buy/", {"pack": "small", "idempotency_key": "k1"})
    response = client.post("/billing/buy/", {"pack": "medium", "idempotency_key": "k1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/billing/"
    assert "already used with different parameters" in response.content.decode()
    assert len(_payments(tenants)) == 1


def test_the_api_and_the_page_share_the_service(tenants):
    # given a purchase made through the API with a key
    client = Client()
    client.force_login(tenants.alice)
    api = client.post(
        "/api/v1/top-ups/", {"pack": "small"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same"
    )
    again = client.post(
        "/api/v1/top-ups/", {"pack": "small"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same"
    )
    # then the retry answers the same payment
    assert api.status_code == again.status_code == 201
    assert api.json()["id"] == again.json()["id"]
    assert len(_payments(tenants)) == 1
