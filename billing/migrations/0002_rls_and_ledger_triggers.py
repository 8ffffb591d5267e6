"""Row-level security on every billing tenant table, and the database's own
guarantees for the money: the ledger and the audit log are append-only, and
every change of a wallet or the ledger is audited by trigger (seed 000)."""

from django.db import migrations

from accounts.tenancy.rls import EnableTenantRLS

TENANT_MODELS = [
    "Wallet",
    "CreditTransaction",
    "Reservation",
    "IdempotencyRecord",
    "AuditLog",
    "Subscription",
    "Payment",
    "TopUpRule",
    "UsageRecord",
    "UserMonthlyUsage",
    "DailyProviderCost",
    "AccountDailyUsage",
    "ApiRequestLog",
    "CostControl",
]

TRIGGERS = r"""
CREATE FUNCTION billing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER billing_credittransaction_append_only
    BEFORE UPDATE OR DELETE ON billing_credittransaction
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();
CREATE TRIGGER billing_auditlog_append_only
    BEFORE UPDATE OR DELETE ON billing_auditlog
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();

CREATE FUNCTION billing_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
BEGIN
    INSERT INTO billing_auditlog
        (id, account_id, table_name, operation, row_id, old_row, new_row, db_user, app_user_id, created_at)
    VALUES (
        gen_random_uuid(),
        COALESCE(new_row->>'account_id', old_row->>'account_id')::uuid,
        TG_TABLE_NAME, TG_OP,
        COALESCE(new_row->>'id', old_row->>'id'),
        old_row, new_row, current_user,
        COALESCE(current_setting('app.user_id', true), ''),
        now()
    );
    RETURN NULL;
END $$;

CREATE TRIGGER billing_wallet_audit
    AFTER INSERT OR UPDATE OR DELETE ON billing_wallet
    FOR EACH ROW EXECUTE FUNCTION billing_audit();
CREATE TRIGGER billing_credittransaction_audit
    AFTER INSERT ON billing_credittransaction
    FOR EACH ROW EXECUTE FUNCTION billing_audit();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS billing_credittransaction_audit ON billing_credittransaction;
DROP TRIGGER IF EXISTS billing_wallet_audit ON billing_wallet;
DROP FUNCTION IF EXISTS billing_audit();
DROP TRIGGER IF EXISTS billing_auditlog_append_only ON billing_auditlog;
DROP TRIGGER IF EXISTS billing_credittransaction_append_only ON billing_credittransaction;
DROP FUNCTION IF EXISTS billing_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        *[EnableTenantRLS(name) for name in TENANT_MODELS],
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
