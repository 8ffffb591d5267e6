"""Raw SQL that writes a model's table names its columns by hand, for speed: the
ledger's one debit statement (billing/sql/ledger_post.sql, the `billing_post`
function every balance change goes through), and the chat's batched message insert
(chats/services/messages.py). Each column list must name only the model's columns
and every column the database cannot fill itself (not generated, not NULL-able), so
a field added to the model (or renamed) fails here instead of in production (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import billing
from accounts.tenancy.context import account_context
from billing.models import CreditTransaction
from billing.services import ledger
from chats.models import Message
from chats.services import messages as chat_messages
from tests.chats.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db


def _model_columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields}


def _fillable_by_the_database(model) -> set[str]:
    """Columns an INSERT may leave out: generated ones, and NULL-able ones left NULL."""
    from django.db.models import GeneratedField  # noqa: PLC0415

    return {f.column for f in model._meta.concrete_fields if isinstance(f, GeneratedField) or f.null}


def _assert_matches(inserted: set[str], model) -> None:
    columns = _model_columns(model)
    assert inserted - columns == set(), "the SQL names columns the model does not have"
    assert columns - inserted - _fillable_by_the_database(model) == set(), "the SQL leaves out required columns"


def _insert_columns(sql: str, table: str) -> set[str]:
    match = re.search(rf"INSERT INTO {table}\s*\(([^)]*)\)", sql)
    assert match, f"no INSERT INTO {table} in {sql[:200]}"
    return {column.strip() for column in match.group(1).split(",")}


SQL_FILE = Path(billing.__file__).parent / "sql" / "ledger_post.sql"


def test_the_debit_sql_names_every_ledger_column():
    _assert_matches(_insert_columns(SQL_FILE.read_text(), "billing_credittransaction"), CreditTransaction)


def test_the_database_writes_ledger_rows_in_one_place_with_the_models_columns():
    # every function of the database that writes ledger rows
    with connection.cursor() as cur:
        cur.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE prosrc LIKE %s", ["%INSERT INTO billing_credittransaction%"]
        )
        writers = cur.fetchall()
        cur.execute(
            "SELECT proname, pronargs, prosrc FROM pg_proc WHERE proname IN ('billing_post', 'billing_post_batch')"
        )
        posts = {name: (nargs, source) for name, nargs, source in cur.fetchall()}
    # is billing_ledger_row alone, naming the model's columns
    assert [name for name, _ in writers] == ["billing_ledger_row"]
    _assert_matches(_insert_columns(writers[0][1], "billing_credittransaction"), CreditTransaction)
    # and both debit functions go through it; billing_post takes what the Python call sends,
    # plus the past moment only the demo's history gives
    assert all("billing_ledger_row(" in source for _, source in posts.values())
    assert posts["billing_post"][0] == ledger._POST_SQL.count("%s") + 1


def test_the_chat_message_insert_names_every_message_column(tenants):
    # given a chat and one new message, stored the fast way
    with account_context(tenants.a.id):
        session = ChatSessionFactory(account=tenants.a, user=tenants.alice)
        message = Message(
            account=tenants.a, session=session, sender=Message.Sender.USER, content="hi", status="complete"
        )
        with CaptureQueriesContext(connection) as queries:
            chat_messages._store(session, [message])
    # then the statement it ran names exactly the model's columns
    [sql] = [q["sql"] for q in queries if "INSERT INTO chats_message" in q["sql"]]
    _assert_matches(_insert_columns(sql, "chats_message"), Message)
