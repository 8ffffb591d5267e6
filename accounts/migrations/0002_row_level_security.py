from django.db import migrations

from accounts.tenancy.rls import USER_EXPR, EnableTenantRLS

MEMBER_OF = f"id IN (SELECT account_id FROM accounts_membership WHERE user_id = {USER_EXPR})"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        # A user reads their own memberships, and the accounts they belong to,
        # across tenants: that is what the account switcher lists.
        EnableTenantRLS("Account", column="id", read_policies={"member_reads_account": MEMBER_OF}),
        EnableTenantRLS("Membership", read_policies={"user_reads_own_memberships": f"user_id = {USER_EXPR}"}),
        EnableTenantRLS("Invitation"),
        EnableTenantRLS("ApiKey"),
    ]
