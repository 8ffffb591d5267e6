"""Fixtures of the knowledge tests: the local embedding model in the registry,
funded accounts, uploaded files in a temporary media folder, and ingestion run
the way the app runs it (enqueued on commit; eager here, a real worker in
test_worker.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.tenancy.context import account_context
from knowledge.models import DecisionUnit, Document
from knowledge.services.documents import document_upload
from knowledge.services.units import unit_create
from tests.billing.factories import fund
from tests.knowledge.factories import MODEL, minilm_model, upload


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded files of a test live and die with it."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def minilm(db, settings):
    settings.AI_DEFAULT_EMBEDDING_MODEL = MODEL
    return minilm_model()


@pytest.fixture
def kb(tenants, minilm):
    """Account A funded, with one empty unit "Logistics playbook" made by alice."""
    with account_context(tenants.a.id):
        fund(tenants.a, "100")
        unit = unit_create(account=tenants.a, actor=tenants.alice_membership, name="Logistics playbook")
    return KnowledgeBase(tenants=tenants, unit=unit)


@dataclass
class KnowledgeBase:
    tenants: object
    unit: DecisionUnit

    def add(self, name: str, content: bytes | str, *, capture, unit: DecisionUnit | None = None,
            account=None, actor=None) -> Document:  # fmt: skip
        """Upload through the service and run the ingestion it enqueues on commit."""
        account = account or self.tenants.a
        actor = actor or self.tenants.alice_membership
        with capture(execute=True), account_context(account.id):
            document = document_upload(
                account=account, actor=actor, unit=unit or self.unit, upload=upload(name, content)
            )
        with account_context(account.id):
            return Document.objects.get(pk=document.pk)
