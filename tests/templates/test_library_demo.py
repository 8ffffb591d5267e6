"""The library demo is idempotent and gives Acme a Globex marketplace item to buy."""

import pytest
from django.core.management import call_command

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import rls_bypass
from templates.models.library import LibraryComponent
from templates.services.library import library_buy
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db


def test_library_demo_is_idempotent_and_acme_can_buy_from_globex():
    call_command("seed_demo")
    call_command("seed_library_demo")
    call_command("seed_library_demo")
    with rls_bypass("test"):
        assert LibraryComponent.objects.count() == 4
        item = LibraryComponent.objects.get(name="Pricing table (3 tiers)")
        acme = Account.objects.get(name="Acme Logistics")
        owner = Membership.objects.get(account=acme, role=Role.OWNER)
    assert item.is_marketplace_item and item.price == 25
    fund(acme, "30")
    assert library_buy(account=acme, actor=owner, component_id=item.pk).purchase.price == 25
