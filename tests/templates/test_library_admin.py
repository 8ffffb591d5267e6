"""Operators: marketplace moderation (unlist, refund) and feature flags in the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.flags import feature_enabled
from accounts.models import AppSetting, User
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import Wallet
from templates.models.library import LibraryComponent, LibraryPurchase
from templates.services import library as svc
from tests.accounts.factories import UserFactory
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    client = Client()
    client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    return client


@pytest.fixture
def sold(tenants):
    row = svc.library_component_save(account=tenants.b, actor=tenants.carol_membership,
                                     data={"name": "Popup", "code": "<div>Hi</div>"})  # fmt: skip
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                visibility="marketplace", price="30")  # fmt: skip
    fund(tenants.a, "100")
    return row, svc.library_buy(account=tenants.a, actor=tenants.alice_membership, component_id=row.pk).purchase


def test_operator_unlists_a_component(operator, sold, tenants):
    row, _ = sold
    response = operator.post("/admin/templates/librarycomponent/", {"action": "unlist", "_selected_action": [row.pk]})
    assert response.status_code == 302
    with rls_bypass("test"):
        assert LibraryComponent.objects.get(pk=row.pk).is_listed is False


def test_operator_refunds_a_purchase(operator, sold, tenants):
    _, purchase = sold
    operator.post("/admin/templates/librarypurchase/", {"action": "refund", "_selected_action": [purchase.pk]})
    with rls_bypass("test"):
        assert LibraryPurchase.objects.get(pk=purchase.pk).status == "refunded"
    with account_context(tenants.a.id):
        assert Wallet.objects.get(account=tenants.a).balance == Decimal("100")


def test_operator_switches_a_feature_off_for_one_account(operator, tenants):
    response = operator.post("/admin/accounts/appsetting/add/", {
        "key": "feature.marketplace", "description": "", "enabled": "on", "accounts_off": [str(tenants.a.id)],
        "value": "",
    })  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    assert (AppSetting.objects.get(key="feature.marketplace").value
            == {"enabled": True, "accounts": {str(tenants.a.id): False}})  # fmt: skip
    assert feature_enabled("marketplace", account_id=tenants.a.id) is False
    assert feature_enabled("marketplace", account_id=tenants.b.id) is True
