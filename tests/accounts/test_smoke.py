from accounts.models import Membership


def test_tenant_setup_gives_each_account_its_owner(tenants):
    # given the standard tenants; when reading memberships without context; then none show
    assert Membership.objects.count() == 0
