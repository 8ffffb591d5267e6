"""Account settings are audited like the ledger: a change of an account's name or
billing email writes the row's before and after to billing_auditlog, with the acting
user (app.user_id), by a trigger no code path can skip (issue 18)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION billing_audit_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_auditlog
        (id, account_id, table_name, operation, row_id, old_row, new_row, db_user, app_user_id, created_at)
    VALUES (
        gen_random_uuid(), NEW.id, TG_TABLE_NAME, TG_OP, NEW.id::text, to_jsonb(OLD), to_jsonb(NEW),
        current_user, COALESCE(current_setting('app.user_id', true), ''), now()
    );
    RETURN NULL;
END $$;

CREATE TRIGGER accounts_account_audit
    AFTER UPDATE OF name, billing_email ON accounts_account
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.billing_email IS DISTINCT FROM NEW.billing_email)
    EXECUTE FUNCTION billing_audit_account();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS accounts_account_audit ON accounts_account;
DROP FUNCTION IF EXISTS billing_audit_account();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0015_plan_monthly_campaigns"), ("accounts", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
