"""Factories of the component library and marketplace (seed 002 `component_library`)."""

from __future__ import annotations

import factory

from templates.models import LibraryComponent, LibraryDownload, LibraryLike, LibraryPurchase
from tests.accounts.factories import AccountFactory, TenantFactory


class LibraryComponentFactory(TenantFactory):
    class Meta:
        model = LibraryComponent

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Pricing table {n}")
    description = "Three tiers with a highlighted plan."
    category = "pricing"
    tags = factory.LazyFunction(lambda: ["pricing", "saas"])
    component_type = "pricing"
    code = "<section><h2>Plans</h2></section>"


class LibraryLikeFactory(TenantFactory):
    class Meta:
        model = LibraryLike

    account = factory.SubFactory(AccountFactory)
    component = factory.LazyAttribute(lambda o: LibraryComponentFactory(account=o.account))


class LibraryDownloadFactory(TenantFactory):
    class Meta:
        model = LibraryDownload

    account = factory.SubFactory(AccountFactory)
    component = factory.LazyAttribute(lambda o: LibraryComponentFactory(account=o.account))


class LibraryPurchaseFactory(TenantFactory):
    class Meta:
        model = LibraryPurchase

    account = factory.SubFactory(AccountFactory)
    component = factory.LazyAttribute(lambda o: LibraryComponentFactory(account=o.account))
    seller_account_id = factory.LazyAttribute(lambda o: o.component.account_id)
    price = "0"


def library_rows(account, owner) -> None:
    """One row in every library tenant table of `account` (the tenancy registries use it)."""
    component = LibraryComponentFactory(account=account, created_by=owner, name=f"Library item of {account.name}")
    LibraryLikeFactory(account=account, component=component, user=owner)
    LibraryDownloadFactory(account=account, component=component, user=owner)
    LibraryPurchaseFactory(account=account, component=component, user=owner)
