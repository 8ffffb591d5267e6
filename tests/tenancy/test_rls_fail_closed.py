"""Without a tenant context the database shows no tenant rows and refuses
writes into another account, whatever SQL the app sends."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.tenancy.context import account_context, rls_bypass
from tests.tenancy.tenant_rows import SEEDERS, seed_every_tenant_table
from tests.tenancy.tenant_tables import tenant_models

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_filled_accounts(tenants):
    for account, owner in ((tenants.a, tenants.alice), (tenants.b, tenants.carol)):
        seed_every_tenant_table(account, owner)
    return tenants


def test_every_tenant_model_can_be_seeded():
    assert set(tenant_models()) <= set(SEEDERS), "add the new tenant model to tests/tenancy/tenant_rows.py"


def _count(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{table}"')
        return cur.fetchone()[0]


def test_raw_select_without_context_returns_no_tenant_rows(two_filled_accounts):
    # given rows in every tenant table for two accounts
    with rls_bypass("test: confirm the rows exist"):
        seeded = {m._meta.db_table: _count(m._meta.db_table) for m in tenant_models()}
    assert all(n >= 2 for n in seeded.values()), seeded
    # when counting with no context; then nothing is visible
    assert {t: _count(t) for t in seeded} == {t: 0 for t in seeded}


def test_raw_select_in_one_account_sees_only_that_account(two_filled_accounts):
    t = two_filled_accounts
    with account_context(t.a.id):
        with connection.cursor() as cur:
            cur.execute("SELECT DISTINCT account_id FROM accounts_membership")
            seen = {row[0] for row in cur.fetchall()}
    assert seen == {t.a.id}


def test_insert_carrying_another_accounts_id_is_rejected(two_filled_accounts):
    t = two_filled_accounts
    with account_context(t.a.id):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO accounts_invitation"
                        " (id, account_id, email, role, token_hash, status, expires_at, created_at)"
                        " VALUES (gen_random_uuid(), %s, 'x@example.com', 'member', 'h', 'pending', now(), now())",
                        [t.b.id],
                    )
    with rls_bypass("test: nothing was written"):
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM accounts_invitation WHERE email = 'x@example.com'")
            assert cur.fetchone()[0] == 0


def test_update_moving_a_row_into_another_account_is_rejected(two_filled_accounts):
    t = two_filled_accounts
    with account_context(t.a.id):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("UPDATE accounts_apikey SET account_id = %s", [t.b.id])


def test_insert_without_any_context_is_rejected(two_filled_accounts):
    t = two_filled_accounts
    with pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO accounts_membership (id, account_id, user_id, role, created_at, updated_at)"
                    " VALUES (gen_random_uuid(), %s, %s, 'owner', now(), now())",
                    [t.b.id, t.bob.id],
                )
