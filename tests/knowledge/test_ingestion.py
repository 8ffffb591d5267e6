"""The whole pipeline (upload -> parse -> split -> embed -> index) in eager mode:
real files, the real local model through the AI gateway, the real database."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tenancy.context import account_context
from billing.models import UsageRecord
from knowledge.models import Chunk, DecisionUnit, Document, StagedChunk
from knowledge.services.embedding import INGEST_FEATURE
from tests.knowledge import files

pytestmark = pytest.mark.django_db

FORMATS = [
    ("handbook.pdf", files.pdf(), [("page 1", 1), ("page 2", 1)]),
    ("returns.docx", files.docx_file(), [("", 1)]),
    ("margins.csv", files.CSV, [("rows 1-3", 1)]),
    ("carriers.xlsx", files.xlsx_file(), [("sheet Carriers, rows 1-2", 1)]),
    ("safety.html", files.HTML, [("", 1)]),
    ("onboarding.md", files.MARKDOWN, [("", 1)]),
    ("cold-chain.txt", files.TEXT, [("", 1)]),
]


def chunks_of(account, document) -> list[Chunk]:
    with account_context(account.id):
        return list(Chunk.objects.filter(document=document).order_by("position"))


@pytest.mark.parametrize(("name", "content", "citations"), FORMATS, ids=[f[0] for f in FORMATS])
def test_every_format_is_indexed_with_vectors_text_search_and_citations(
    kb, django_capture_on_commit_callbacks, name, content, citations
):
    # when
    document = kb.add(name, content, capture=django_capture_on_commit_callbacks)
    # then the document is done, its stages were timed in order, and the unit is active
    assert (document.status, document.error, document.embedding_model) == ("done", "", "local-minilm")
    times = [at for _, at in document.stage_times]
    assert [stage for stage, _ in document.stage_times] == [
        "queued", "parsing", "splitting", "embedding", "indexing", "finished"
    ]  # fmt: skip
    assert times == sorted(times)
    chunks = chunks_of(kb.tenants.a, document)
    assert [(c.citation, c.position) for c in chunks] == [(cite, i) for i, (cite, _) in enumerate(citations)]
    assert (document.chunks_total, document.chunks_embedded, document.chunk_count) == (len(chunks),) * 3
    for chunk in chunks:
        assert (chunk.model, len(chunk.embedding)) == ("local-minilm", 384)
        assert math.isclose(sum(x * x for x in chunk.embedding), 1.0, rel_tol=1e-4)
    with account_context(kb.tenants.a.id):
        kb.unit.refresh_from_db()
        assert StagedChunk.objects.filter(document=document).count() == 0
    assert (kb.unit.status, kb.unit.chunk_count) == ("active", len(chunks))


def test_pdf_pages_are_searchable_by_words(kb, django_capture_on_commit_callbacks):
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id), connection.cursor() as cur:
        cur.execute(
            "SELECT page FROM knowledge_chunk WHERE document_id = %s AND search_vector @@ to_tsquery('english', %s)",
            [document.pk, "truckloads"],
        )
        assert cur.fetchall() == [(2,)]


def test_embedding_runs_in_batches_with_one_usage_record_each(kb, settings, django_capture_on_commit_callbacks):
    # given batches of 2 texts and a CSV of 5 rows too long to share a chunk
    settings.KNOWLEDGE_EMBED_BATCH = 2
    settings.KNOWLEDGE_CHUNK_TOKENS, settings.KNOWLEDGE_CHUNK_OVERLAP = 30, 5
    rows = "\n".join(f"R-{i},{' '.join(['pallet'] * 20)}" for i in range(5))
    # when
    document = kb.add("rows.csv", f"sku,notes\n{rows}\n", capture=django_capture_on_commit_callbacks)
    # then 5 chunks were embedded in 3 metered calls, each charged to the account
    assert (document.status, document.chunk_count) == ("done", 5)
    with account_context(kb.tenants.a.id):
        records = list(UsageRecord.objects.filter(account=kb.tenants.a).order_by("created_at"))
    assert [(r.feature, r.model, r.status) for r in records] == [(INGEST_FEATURE, "local-minilm", "ok")] * 3
    assert all(r.tokens_in > 0 and r.credits > Decimal("0") for r in records)


def test_ingesting_a_run_again_changes_nothing(kb, django_capture_on_commit_callbacks):
    # given an ingested document
    from knowledge.services.ingestion import document_ingest

    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    before = [(c.pk, c.position) for c in chunks_of(kb.tenants.a, document)]
    # when its (redelivered) message runs again
    outcome = document_ingest(
        account_id=str(kb.tenants.a.id), document_id=str(document.pk), run_id=str(document.run_id)
    )
    # then
    assert outcome == "stale"
    assert [(c.pk, c.position) for c in chunks_of(kb.tenants.a, document)] == before


def test_unit_status_follows_its_documents(kb, django_capture_on_commit_callbacks):
    # given a unit whose only document failed
    kb.add("broken.csv", files.BROKEN_CSV, capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id):
        kb.unit.refresh_from_db()
    assert kb.unit.status == DecisionUnit.Status.ERROR
    # when a good document arrives
    kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    # then the unit works again, the failed document beside the good one
    with account_context(kb.tenants.a.id):
        kb.unit.refresh_from_db()
        statuses = sorted(Document.objects.filter(unit=kb.unit).values_list("status", flat=True))
    assert (kb.unit.status, kb.unit.chunk_count, statuses) == ("active", 2, ["done", "error"])
