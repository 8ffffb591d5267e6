"""The database itself enforces tenancy: every tenant table is under forced
row-level security, and the role the app connects as cannot escape it."""

import pytest
from django.db import connection

from tests.tenancy.tenant_tables import tenant_tables

pytestmark = pytest.mark.django_db


def test_every_tenant_table_has_forced_row_security_and_a_policy():
    # given every table that carries an account (discovered, not listed)
    tables = tenant_tables()
    assert "accounts_membership" in tables and "accounts_account" in tables
    # when reading the catalog
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname = ANY(%s)
            """,
            [tables],
        )
        rows = {name: (enabled, forced, policies) for name, enabled, forced, policies in cur.fetchall()}
    # then each one is enabled, forced and has at least one policy
    assert sorted(rows) == tables
    missing = {t: v for t, v in rows.items() if not (v[0] and v[1] and v[2] >= 1)}
    assert missing == {}


def test_app_role_is_not_superuser_has_no_bypassrls_and_owns_nothing():
    with connection.cursor() as cur:
        cur.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        user, is_super, bypass = cur.fetchone()
        cur.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
            """
        )
        owned = cur.fetchone()[0]
    assert user == "aiplatform_app"
    assert (is_super, bypass, owned) == (False, False, 0)


def test_tenant_policies_read_the_transaction_local_setting_and_fail_closed():
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'tenant_isolation'")
        expressions = [row[0] for row in cur.fetchall()]
    assert expressions
    assert all("NULLIF(current_setting('app.account_id'::text, true), ''::text)" in e for e in expressions)
