"""The knowledge app's demo: a decision unit per demo account holding the documents
shipped in this folder, ingested through the normal pipeline (the Celery task, run
in-process). `manage.py seed_knowledge_demo` runs it; see README.md for the files.

Idempotent: the unit is found by name, a document by its bytes (the same file is
never uploaded twice); a document left queued or failed by an earlier run is
ingested again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.demo import SECOND_ACCOUNT, TEAM_ACCOUNT, DemoTenant, eager_tasks
from accounts.tenancy.context import account_context
from knowledge.models import DecisionUnit, Document
from knowledge.services.documents import document_retry, document_upload
from knowledge.services.ingestion import document_ingest
from knowledge.services.units import unit_create

DEMO_DIR = Path(__file__).resolve().parent

DEMO_UNITS = {
    TEAM_ACCOUNT: {
        "name": "Acme shipping handbook",
        "description": "How Acme Logistics ships, prices, stores and compensates: the shipping policy, the 2026 "
        "rate card, the claims procedure and the warehouse handbook. The Shipping desk persona answers from it.",
        "folder": "acme",
    },
    SECOND_ACCOUNT: {
        "name": "Globex editorial guide",
        "description": "Globex Media's brand voice and episode plan, for scripts and titles in the house style.",
        "folder": "globex",
    },
}


def demo_unit(tenant: DemoTenant) -> DecisionUnit | None:
    spec = DEMO_UNITS.get(tenant.account.name)
    if spec is None:
        return None
    with account_context(tenant.account.id):
        return DecisionUnit.objects.filter(account=tenant.account, name=spec["name"]).order_by("created_at").first()


def seed_unit(tenant: DemoTenant) -> tuple[DecisionUnit, int]:
    """The tenant's demo unit with every demo file in it, indexed. Returns (unit, files uploaded now)."""
    spec = DEMO_UNITS[tenant.account.name]
    account = tenant.account
    unit = demo_unit(tenant)
    if unit is None:
        with transaction.atomic(), account_context(account.id):
            unit = unit_create(account=account, actor=tenant.owner, name=spec["name"], description=spec["description"])
    uploaded = 0
    for path in sorted((DEMO_DIR / spec["folder"]).iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix == ".py":
            continue
        data = path.read_bytes()
        upload = SimpleUploadedFile(path.name, data)
        with account_context(account.id):
            existing = Document.objects.filter(
                account=account, unit=unit, sha256=hashlib.sha256(data).hexdigest()
            ).first()
        # Each upload commits, then its ingestion task runs (eagerly) on that commit.
        with eager_tasks():
            if existing is None:
                with transaction.atomic(), account_context(account.id):
                    document_upload(account=account, actor=tenant.owner, unit=unit, upload=upload)
                uploaded += 1
            elif existing.status in (Document.Status.ERROR, Document.Status.CANCELLED):
                with transaction.atomic(), account_context(account.id):
                    document_retry(document=existing, actor=tenant.owner)
            elif existing.status == Document.Status.QUEUED:  # queued by a run whose worker never came
                document_ingest(account_id=str(account.id), document_id=str(existing.id), run_id=str(existing.run_id))
    return unit, uploaded
