"""The library pages: search, a sandboxed preview, buying from the page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from billing.models import Wallet
from templates.services import library as svc
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(tenants):
    row = svc.library_component_save(account=tenants.b, actor=tenants.carol_membership, data={
        "name": "Pricing table", "tags": ["pricing"], "code": '<div class="p">Plans</div>'})  # fmt: skip
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                visibility="marketplace", price="20")  # fmt: skip
    fund(tenants.a, "50")
    return row


def test_search_page_lists_marketplace_items(tenants, listed, client):
    client.force_login(tenants.alice)
    page = client.get("/services/library/?scope=marketplace&q=pricing")
    assert page.status_code == 200 and b"Pricing table" in page.content


def test_component_page_buys_once_and_previews_in_a_sandbox(tenants, listed, client):
    client.force_login(tenants.alice)
    locked = client.get(f"/services/library/{listed.pk}/")
    assert b"Buy for" in locked.content and b"Plans" not in locked.content
    for _ in range(2):
        client.post(f"/services/library/{listed.pk}/", {"action": "buy", "idempotency_key": "page-1"})
    with account_context(tenants.a.id):
        assert Wallet.objects.get(account=tenants.a).balance == Decimal("30")
    page = client.get(f"/services/library/{listed.pk}/")
    assert b'sandbox=""' in page.content and b"Plans" in page.content


def test_another_accounts_private_component_is_404(tenants, client):
    row = svc.library_component_save(account=tenants.b, actor=tenants.carol_membership, data={"name": "Secret"})
    client.force_login(tenants.alice)
    assert client.get(f"/services/library/{row.pk}/").status_code == 404
    assert client.post(f"/services/library/{row.pk}/", {"action": "like"}).status_code == 404
