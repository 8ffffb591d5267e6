"""What the database itself guarantees, whatever SQL the app sends: no negative
balance, an append-only ledger and audit log, an audit row for every change of a
wallet or the ledger, and row-level security between accounts."""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.tenancy.context import account_context, rls_bypass, user_context
from aiplatform.errors import InsufficientCredits
from billing.models import AuditLog, CreditTransaction, Wallet
from billing.services.ledger import wallet_debit
from tests.billing.factories import fund, spend

pytestmark = pytest.mark.django_db

D = Decimal


def _sql(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _refused(sql: str, params=None, match: str = "") -> None:
    """`sql` raises, inside its own savepoint so the test transaction lives on."""
    with pytest.raises(DatabaseError, match=match):
        with transaction.atomic():
            _sql(sql, params)


def _balance(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


@pytest.fixture
def funded(tenants):
    fund(tenants.a, "100")
    spend(tenants.a, "10")
    fund(tenants.b, "50")
    return tenants


# --- CHECK constraints ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_wallet SET balance = -1 WHERE account_id = %s",
        "UPDATE billing_wallet SET balance = balance - 90.0001 WHERE account_id = %s",
        "UPDATE billing_wallet SET reserved = -1 WHERE account_id = %s",
        "UPDATE billing_wallet SET reserved = balance + 0.0001 WHERE account_id = %s",
    ],
    ids=["negative-balance", "overdrawn", "negative-reserved", "reserved-above-balance"],
)
def test_raw_wallet_update_breaking_a_check_fails(funded, sql):
    with account_context(funded.a.id):
        with pytest.raises(IntegrityError, match="check constraint"):
            with transaction.atomic():
                _sql(sql, [funded.a.id])
    assert _balance(funded.a) == D("90.0000")


@pytest.mark.parametrize(
    "type_,amount,balance_after",
    [("use", "0", "1"), ("bonus", "-1", "1"), ("use", "1", "1"), ("refund", "-1", "1"), ("use", "-1", "-1")],
    ids=["zero", "negative-bonus", "positive-use", "negative-refund", "negative-balance-after"],
)
def test_raw_ledger_insert_breaking_a_check_fails(funded, type_, amount, balance_after):
    with account_context(funded.a.id):
        with pytest.raises(IntegrityError, match="check constraint"):
            with transaction.atomic():
                _sql(
                    "INSERT INTO billing_credittransaction (id, account_id, amount, type, balance_after,"
                    " reference_type, reference_id, description, payment_method, provider, currency, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, '', '', '', '', '', '', now())",
                    [uuid.uuid4(), funded.a.id, D(amount), type_, D(balance_after)],
                )


# --- append-only ledger and audit log --------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_credittransaction SET amount = amount * 2",
        "UPDATE billing_credittransaction SET description = 'edited'",
        "DELETE FROM billing_credittransaction",
        "UPDATE billing_auditlog SET app_user_id = 'someone'",
        "DELETE FROM billing_auditlog",
    ],
)
def test_ledger_and_audit_rows_cannot_be_updated_or_deleted(funded, sql):
    # given
    with account_context(funded.a.id):
        before = _sql(
            "SELECT (SELECT count(*) FROM billing_credittransaction), (SELECT count(*) FROM billing_auditlog)"
        )
        # when / then, in the tenant's own context
        _refused(sql, match="append-only")
    # and not even past row-level security
    with rls_bypass("test: append-only binds every path"):
        _refused(sql, match="append-only")
    with account_context(funded.a.id):
        assert _sql(
            "SELECT (SELECT count(*) FROM billing_credittransaction), (SELECT count(*) FROM billing_auditlog)"
        ) == (before)


def test_the_orm_cannot_edit_or_delete_ledger_rows(funded):
    with account_context(funded.a.id):
        with pytest.raises(IntegrityError, match="append-only"):
            with transaction.atomic():
                CreditTransaction.objects.filter(account=funded.a).update(description="edited")
        tx = CreditTransaction.objects.filter(account=funded.a).first()
        with pytest.raises(IntegrityError, match="append-only"):
            with transaction.atomic():
                tx.delete()
        with pytest.raises(IntegrityError, match="append-only"):
            with transaction.atomic():
                AuditLog.objects.filter(account=funded.a).delete()
        assert CreditTransaction.objects.filter(account=funded.a, description="edited").count() == 0


# --- audit trigger ----------------------------------------------------------------------


def _audit(account) -> list[AuditLog]:
    with account_context(account.id):
        return list(AuditLog.objects.filter(account=account))


def test_every_wallet_change_is_audited_with_the_acting_user_and_the_ledger_row_is_its_own_audit(tenants):
    # given a funded wallet: the wallet INSERT and its UPDATE (the ledger row is not copied)
    fund(tenants.a, "100")
    assert sorted((a.table_name, a.operation) for a in _audit(tenants.a)) == [
        ("billing_wallet", "INSERT"), ("billing_wallet", "UPDATE"),
    ]  # fmt: skip
    seen = {a.id for a in _audit(tenants.a)}
    # when alice spends, with the app's user context set
    with user_context(tenants.alice.id):
        tx = wallet_debit(account=tenants.a, amount="12.5", actor=tenants.alice)
    # then exactly one audit row was added, the wallet's, attributed to her
    new = {(a.table_name, a.operation): a for a in _audit(tenants.a) if a.id not in seen}
    assert set(new) == {("billing_wallet", "UPDATE")}
    wallet_row = new[("billing_wallet", "UPDATE")]
    with account_context(tenants.a.id):
        wallet_id = str(Wallet.objects.get(account=tenants.a).id)
        ledger_row = CreditTransaction.objects.get(pk=tx.id)
    assert (wallet_row.row_id, wallet_row.app_user_id, wallet_row.db_user) == (
        wallet_id, str(tenants.alice.id), connection.settings_dict["USER"],
    )  # fmt: skip
    assert (D(str(wallet_row.old_row["balance"])), D(str(wallet_row.new_row["balance"]))) == (D("100"), D("87.5"))
    assert wallet_row.old_row["account_id"] == wallet_row.new_row["account_id"] == str(tenants.a.id)
    # and the append-only ledger row says what the audit copy used to: who, what, the balance it made
    assert (ledger_row.type, ledger_row.amount, ledger_row.balance_after, ledger_row.actor_id) == (
        "use", D("-12.5"), D("87.5"), tenants.alice.id,
    )  # fmt: skip


def test_without_a_user_context_the_audit_row_has_no_app_user(tenants):
    fund(tenants.a, "10")
    assert {a.app_user_id for a in _audit(tenants.a)} == {""}


def test_a_refused_debit_leaves_no_audit_row(tenants):
    fund(tenants.a, "10")
    before = len(_audit(tenants.a))
    with pytest.raises(InsufficientCredits):
        spend(tenants.a, "11")
    assert len(_audit(tenants.a)) == before


def test_a_raw_wallet_update_is_audited_too(funded):
    with account_context(funded.a.id):
        _sql("UPDATE billing_wallet SET tier = 'pro' WHERE account_id = %s", [funded.a.id])
        last = AuditLog.objects.filter(table_name="billing_wallet", operation="UPDATE", new_row__tier="pro").get()
    assert (last.old_row["tier"], last.new_row["tier"]) == ("free", "pro")


# --- row-level security ------------------------------------------------------------------


def test_ledger_and_audit_rows_of_another_account_are_invisible(funded):
    b = funded.b.id
    with account_context(funded.a.id):
        # explicit filters on B's id, raw SQL: still nothing
        assert _sql("SELECT count(*) FROM billing_credittransaction WHERE account_id = %s", [b]) == [(0,)]
        assert _sql("SELECT count(*) FROM billing_auditlog WHERE account_id = %s", [b]) == [(0,)]
        assert _sql("SELECT count(*) FROM billing_wallet WHERE account_id = %s", [b]) == [(0,)]
        assert not CreditTransaction.objects.filter(account_id=b).exists()
        assert set(CreditTransaction.objects.values_list("account_id", flat=True)) == {funded.a.id}
    with account_context(b):
        assert _sql("SELECT count(*) FROM billing_credittransaction") == [(1,)]
    # no context: no tenant rows at all
    assert _sql("SELECT count(*) FROM billing_credittransaction") == [(0,)]
    assert _sql("SELECT count(*) FROM billing_wallet") == [(0,)]


def test_a_ledger_row_or_wallet_change_for_another_account_is_rejected(funded):
    with account_context(funded.a.id):
        _refused(
            "INSERT INTO billing_credittransaction (id, account_id, amount, type, balance_after, reference_type,"
            " reference_id, description, payment_method, provider, currency, created_at)"
            " VALUES (%s, %s, 5, 'bonus', 55, '', '', '', '', '', '', now())",
            [uuid.uuid4(), funded.b.id],
            match="row-level security",
        )
        # an UPDATE of B's wallet from A's context matches no row
        _sql("UPDATE billing_wallet SET balance = balance + 1000 WHERE account_id = %s", [funded.b.id])
    assert _balance(funded.b) == D("50.0000")
