"""The ledger row is its own audit record: drop the trigger that copied every ledger
INSERT into billing_auditlog (issue 15, docs/adr/0002).

`billing_credittransaction` is append-only (no UPDATE or DELETE passes its trigger,
row-level security or not), every row carries its amount, type, actor, reference,
the balance it produced and a clock timestamp; the audit copy repeated all of that
as JSON. Wallet changes (INSERT, UPDATE, DELETE of `billing_wallet`) keep their
trigger-written audit rows with the database user and the app user, as seed 000
asks. A debit now writes the wallet UPDATE, its ledger row and one audit row
instead of two (about a fifth of its server time, measured by the ledger bench).
"""

from django.db import migrations

FORWARD = "DROP TRIGGER IF EXISTS billing_credittransaction_audit ON billing_credittransaction"
BACKWARD = """
CREATE TRIGGER billing_credittransaction_audit
    AFTER INSERT ON billing_credittransaction
    FOR EACH ROW EXECUTE FUNCTION billing_audit()
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0016_account_settings_audit")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
