"""The shared scoping mechanism is hard to bypass and reads as documented."""

import pytest

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context, user_context
from accounts.tenancy.drf import TenantViewSet


def test_a_tenant_viewset_cannot_override_get_queryset():
    with pytest.raises(TypeError, match="must not override get_queryset"):

        class Sneaky(TenantViewSet):
            def get_queryset(self):
                return Membership.objects.all()


@pytest.mark.django_db
def test_a_user_reads_their_own_memberships_and_accounts_across_tenants(tenants):
    # given bob is also a viewer of account B
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(account=tenants.b, user=tenants.bob, role="viewer")
    # when reading as bob with no active account
    with user_context(tenants.bob.id):
        accounts = set(Account.objects.values_list("name", flat=True))
        memberships = set(Membership.objects.values_list("user__email", "account__name"))
    # then bob sees his two accounts and only his own memberships in them
    assert accounts == {"Account A", "Account B"}
    assert memberships == {("bob@example.com", "Account A"), ("bob@example.com", "Account B")}


@pytest.mark.django_db
def test_account_context_is_restored_after_the_block(tenants):
    with account_context(tenants.a.id):
        with account_context(tenants.b.id):
            inner = set(Membership.objects.values_list("account_id", flat=True))
        outer = set(Membership.objects.values_list("account_id", flat=True))
    assert (inner, outer) == ({tenants.b.id}, {tenants.a.id})
    assert Membership.objects.count() == 0
