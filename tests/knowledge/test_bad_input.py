"""Files that cannot be used end as documents in `error` with a message the user
understands; the unit keeps working and the worker keeps running."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from knowledge.models import Chunk, Document
from tests.knowledge import files

pytestmark = pytest.mark.django_db

BAD = [
    ("locked.pdf", files.pdf(user_password="secret"),
     "This PDF is password-protected. Remove the password and upload it again."),
    ("damaged.pdf", files.corrupt_pdf(),
     "This PDF could not be read; it may be damaged. Re-save or re-export it and upload it again."),
    ("scan.pdf", files.pdf(["   "]),
     "No text could be found in this file. If it is a scanned document, run it through text recognition (OCR) "
     "first."),
    ("prices.csv", files.BROKEN_CSV,
     "This CSV file has broken quoting in the record that starts on line 2 (unexpected end of data). "
     "Check that every quoted value is closed, then upload it again."),
    ("blank.txt", "  \n\n \n", "No text could be found in this file."),
    ("report.docx", b"PK\x03\x04 truncated",
     "This Word document could not be opened; it may be damaged or not a .docx file. Save it as .docx again."),
]  # fmt: skip
REJECTED = [
    ("empty.txt", b"", "The file is empty."),
    ("slides.pptx", b"PK\x03\x04 slides",
     "Files of type .pptx are not supported. Upload PDF, Word (.docx), CSV, Excel (.xlsx), text, Markdown and HTML "
     "files."),
    ("README", b"no extension", "Files of type without an extension are not supported. Upload PDF, Word (.docx), "
     "CSV, Excel (.xlsx), text, Markdown and HTML files."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_unreadable_files_fail_with_a_message_and_the_next_document_still_works(
    kb, django_capture_on_commit_callbacks, name, content, message
):
    # when a bad file is ingested, then a good one by the same (eager) worker
    bad = kb.add(name, content, capture=django_capture_on_commit_callbacks)
    good = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    # then
    assert (bad.status, bad.error, bad.chunk_count) == ("error", message, 0)
    assert bad.finished_at is not None and bad.file.name != ""  # kept: the user may download or retry it
    assert (good.status, good.chunk_count) == ("done", 2)
    with account_context(kb.tenants.a.id):
        kb.unit.refresh_from_db()
        assert Chunk.objects.filter(document=bad).count() == 0
    assert (kb.unit.status, kb.unit.chunk_count) == ("active", 2)


@pytest.mark.parametrize(("name", "content", "message"), REJECTED, ids=[r[0] for r in REJECTED])
def test_empty_and_unsupported_uploads_are_refused_without_storing_anything(
    kb, django_capture_on_commit_callbacks, name, content, message
):
    # when
    document = kb.add(name, content, capture=django_capture_on_commit_callbacks)
    # then the document says why, and nothing was stored or queued
    assert (document.status, document.error, document.file.name, document.run_id) == ("error", message, "", None)
    with account_context(kb.tenants.a.id):
        kb.unit.refresh_from_db()
    assert kb.unit.status == "error"


def test_a_file_over_the_size_limit_is_refused_without_storing_it(kb, settings, django_capture_on_commit_callbacks):
    # given a limit of 1 MB
    settings.KNOWLEDGE_MAX_UPLOAD_MB = 1
    # when a 1.5 MB text file arrives
    document = kb.add("big.txt", b"word " * 314573, capture=django_capture_on_commit_callbacks)
    # then
    assert (document.status, document.error, document.file.name) == (
        "error", "This file is 1.5 MB; files up to 1 MB can be uploaded. Split it into smaller files.", ""
    )  # fmt: skip


def test_an_account_without_credits_gets_a_clear_error(tenants, minilm, django_capture_on_commit_callbacks):
    # given account B, which has no credits
    from knowledge.services.units import unit_create
    from tests.knowledge.conftest import KnowledgeBase

    with account_context(tenants.b.id):
        unit = unit_create(account=tenants.b, actor=tenants.carol_membership, name="Unfunded")
    kb = KnowledgeBase(tenants=tenants, unit=unit)
    # when
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks, account=tenants.b,
                      actor=tenants.carol_membership)  # fmt: skip
    # then
    assert document.status == "error"
    assert document.error.startswith("The account ran out of credits while embedding this document: ")
    assert document.error.endswith(" Top up, then retry the document.")
    with account_context(tenants.b.id):
        assert Document.objects.get(pk=document.pk).chunk_count == 0


def test_a_failing_embedding_service_is_retried_later_then_reported(
    kb, settings, model_server, django_capture_on_commit_callbacks
):
    # given a unit on a hosted 384-dimensional embedding model whose server answers 503, and a queued document
    from aiplatform.ai.models import AiModel
    from knowledge.models import DecisionUnit
    from knowledge.services.ingestion import ProviderTrouble, document_ingest, ingestion_sweep

    settings.AI_OPENAI_BASE_URL, settings.AI_OPENAI_API_KEY, settings.AI_MAX_RETRIES = model_server.base_url, "k", 0
    AiModel.objects.create(name="hosted-embed", provider="openai", provider_model="loopback-embed", kind="embedding",
                           dimensions=384)  # fmt: skip
    with account_context(kb.tenants.a.id):
        DecisionUnit.objects.filter(pk=kb.unit.pk).update(embedding_model="hosted-embed")
        kb.unit.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False), account_context(kb.tenants.a.id):
        from knowledge.services.documents import document_upload
        from tests.knowledge.factories import upload

        document = document_upload(account=kb.tenants.a, actor=kb.tenants.alice_membership, unit=kb.unit,
                                   upload=upload("handbook.pdf", files.pdf()))  # fmt: skip
    model_server.fail(503, times=2)
    ids = {"account_id": str(kb.tenants.a.id), "document_id": str(document.pk), "run_id": str(document.run_id)}
    # when the first attempt fails: the task is to retry later, the document waits queued (the sweep leaves it)
    with pytest.raises(ProviderTrouble):
        document_ingest(**ids, last_attempt=False)
    with account_context(kb.tenants.a.id):
        assert Document.objects.get(pk=document.pk).status == "queued"
    assert ingestion_sweep() == 0
    # when the last attempt fails too: the user is told
    assert document_ingest(**ids, last_attempt=True) == "error"
    with account_context(kb.tenants.a.id):
        failed = Document.objects.get(pk=document.pk)
    assert failed.status == "error"
    assert failed.error == (
        f"The embedding service failed: The OpenAI-compatible provider at {model_server.base_url.split('//')[1][:-3]} "
        "failed (HTTP 503: Scripted failure 503.). Retry the document later."
    )
