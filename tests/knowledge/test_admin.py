"""Operators see every account's units and documents with their errors, and can
re-run ingestion."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.tenancy.context import account_context
from knowledge.models import Document
from tests.accounts.factories import UserFactory
from tests.knowledge import files

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    return client


def test_operators_see_documents_with_errors_and_re_run_ingestion(ops, kb, django_capture_on_commit_callbacks):
    # given a failed document and a good one
    bad = kb.add("prices.csv", files.BROKEN_CSV, capture=django_capture_on_commit_callbacks)
    good = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    # when the operator lists documents
    listing = ops.get("/admin/knowledge/document/").content.decode()
    # then both show, with the error
    assert "prices.csv" in listing and "handbook.pdf" in listing
    assert "This CSV file has broken quoting in the record that starts on line 2" in listing
    # when the good one is re-run
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post("/admin/knowledge/document/", {"action": "rerun_ingestion", "_selected_action": [good.pk]},
                            follow=True)  # fmt: skip
    # then
    assert "Queued 1 document(s) for ingestion." in response.content.decode()
    with account_context(kb.tenants.a.id):
        again = Document.objects.get(pk=good.pk)
    assert (again.status, again.chunk_count) == ("done", 2)
    assert again.run_id != good.run_id
    assert ops.get(f"/admin/knowledge/decisionunit/{kb.unit.pk}/change/").status_code == 200
    assert ops.get("/admin/knowledge/chunk/").status_code == 200
    assert bad.status == "error"
