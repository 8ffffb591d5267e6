"""The debit written once (issue 18): `billing_post` takes every ledger column (payment,
idempotency key, refund, lifetime credits), so the in-transaction path of
billing/services/ledger.py calls it instead of its own copy of the statement, and
`billing_post_batch` writes its rows through the same `billing_ledger_row` (the one
list of ledger columns) instead of a third copy. The SQL lives in
billing/sql/ledger_post.sql; this migration loads it. Backwards: the functions of
migrations 0006 and 0010 as they were."""

from importlib import import_module
from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "ledger_post.sql").read_text()


def _earlier() -> str:
    single = import_module("billing.migrations.0006_fast_debit_and_leaner_ledger_indexes").BILLING_POST
    batch = import_module("billing.migrations.0010_batched_debits").FORWARD
    drop = (
        "DROP FUNCTION IF EXISTS billing_post_batch(uuid[], uuid[], numeric[], text[], uuid[], text[], text[], text[]);"
        "DROP FUNCTION IF EXISTS billing_post("
        "uuid, uuid, numeric, text, uuid, text, text, text, boolean, text, text, text, numeric, text, text, uuid);"
        "DROP FUNCTION IF EXISTS billing_ledger_row("
        "uuid, uuid, numeric, text, numeric, uuid, text, text, text, text, text, text, numeric, text, text, uuid);"
        "DROP FUNCTION IF EXISTS billing_post("
        "uuid, uuid, numeric, text, uuid, text, text, text, boolean, text, text, text, numeric, text, text, uuid, "
        "timestamptz);"
        "DROP FUNCTION IF EXISTS billing_ledger_row("
        "uuid, uuid, numeric, text, numeric, uuid, text, text, text, text, text, text, numeric, text, text, uuid, "
        "timestamptz);"
    )
    return drop + single + ";" + batch


class Migration(migrations.Migration):
    dependencies = [("billing", "0017_ledger_row_is_its_own_audit")]

    operations = [migrations.RunSQL(SQL, _earlier())]
