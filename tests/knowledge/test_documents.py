"""The user's controls over a document (pause, resume, cancel, retry, delete), a
resumed run reusing what was embedded, duplicates, storage limits, a new
embedding model, and the sweep that rescues documents of a dead worker."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, LimitReached
from knowledge.models import Chunk, Document, StagedChunk
from knowledge.services import documents as docs
from knowledge.services.ingestion import LOCK_CLASS, document_ingest, ingestion_sweep
from knowledge.services.units import unit_update
from tests.knowledge import files
from tests.knowledge.factories import MODEL, minilm_model, unit_vector, upload

pytestmark = pytest.mark.django_db


def queued(kb, name="handbook.pdf", content=None, capture=None) -> Document:
    """Uploaded, its ingestion message not yet run (no worker has picked it up)."""
    with capture(execute=False), account_context(kb.tenants.a.id):
        document = docs.document_upload(
            account=kb.tenants.a, actor=kb.tenants.alice_membership, unit=kb.unit,
            upload=upload(name, content if content is not None else files.pdf()),
        )  # fmt: skip
    assert document.status == "queued"
    return document


def run(document: Document) -> str:
    return document_ingest(
        account_id=str(document.account_id), document_id=str(document.pk), run_id=str(document.run_id)
    )


def fresh(kb, document: Document) -> Document:
    with account_context(kb.tenants.a.id):
        return Document.objects.get(pk=document.pk)


def test_a_paused_document_is_skipped_by_its_worker_and_resumed_later(kb, django_capture_on_commit_callbacks):
    # given a queued document, paused before a worker got to it
    document = queued(kb, capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id):
        docs.document_pause(document=document, actor=kb.tenants.bob_membership)
    # when its message runs
    outcome = run(document)
    # then nothing happened
    assert (outcome, fresh(kb, document).status) == ("stale", "paused")
    # when resumed: a new run, enqueued on commit
    with django_capture_on_commit_callbacks(execute=True), account_context(kb.tenants.a.id):
        resumed = docs.document_resume(document=document, actor=kb.tenants.bob_membership)
    # then
    assert resumed.run_id != document.run_id
    assert (fresh(kb, document).status, fresh(kb, document).chunk_count) == ("done", 2)


def test_a_resumed_run_embeds_only_what_is_missing(kb, settings, django_capture_on_commit_callbacks):
    # given a 4-chunk document whose first two chunks an earlier run embedded and staged
    settings.KNOWLEDGE_CHUNK_TOKENS, settings.KNOWLEDGE_CHUNK_OVERLAP = 10, 0
    text = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu. Nu xi omicron pi."
    text += " Rho sigma tau upsilon. Phi chi psi omega. Aleph beth gimel dalet."
    document = queued(kb, "greek.txt", text, capture=django_capture_on_commit_callbacks)
    earlier = {0: "Alpha beta gamma delta. Epsilon zeta eta theta.", 1: "Iota kappa lambda mu. Nu xi omicron pi."}
    with account_context(kb.tenants.a.id):
        for position, chunk_text in earlier.items():
            StagedChunk.objects.create(
                account=kb.tenants.a, unit=kb.unit, document=document, position=position, text=chunk_text,
                model=MODEL, embedding=unit_vector(position),
            )  # fmt: skip
    # when the run goes on
    outcome = run(document)
    # then the staged vectors were kept, only the rest were embedded (one batch), and nothing is left staged
    assert outcome == "done"
    with account_context(kb.tenants.a.id):
        chunks = list(Chunk.objects.filter(document=document).order_by("position"))
        assert StagedChunk.objects.filter(document=document).count() == 0
        from billing.models import UsageRecord

        assert UsageRecord.objects.filter(account=kb.tenants.a, feature="knowledge_ingest").count() == 1
    assert [c.text for c in chunks][:2] == [earlier[0], earlier[1]]
    for chunk, seed in zip(chunks[:2], (0, 1), strict=True):
        assert list(chunk.embedding) == pytest.approx(unit_vector(seed), abs=1e-6)
    assert [c.text for c in chunks][2:] == ["Rho sigma tau upsilon. Phi chi psi omega.", "Aleph beth gimel dalet."]
    assert fresh(kb, document).chunks_embedded == 4


def test_cancel_drops_the_unfinished_run_and_retry_starts_again(kb, django_capture_on_commit_callbacks):
    # given a queued document with some staged work
    document = queued(kb, capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id):
        StagedChunk.objects.create(account=kb.tenants.a, unit=kb.unit, document=document, position=0, text="x",
                                   model=MODEL, embedding=unit_vector(1))  # fmt: skip
        # when cancelled
        docs.document_cancel(document=document, actor=kb.tenants.alice_membership)
        assert StagedChunk.objects.filter(document=document).count() == 0
    assert (run(document), fresh(kb, document).status) == ("stale", "cancelled")
    # when retried
    with django_capture_on_commit_callbacks(execute=True), account_context(kb.tenants.a.id):
        docs.document_retry(document=document, actor=kb.tenants.alice_membership)
    # then
    assert (fresh(kb, document).status, fresh(kb, document).chunk_count) == ("done", 2)


@pytest.mark.parametrize(
    ("service", "status", "message"),
    [
        (docs.document_pause, "done", "Only a queued or running document can be paused; this one is done."),
        (docs.document_resume, "done", "Only a paused document can be resumed; this one is done."),
        (docs.document_cancel, "done",
         "Only a queued, running or paused document can be cancelled; this one is done."),
        (docs.document_retry, "done", "Only a failed or cancelled document can be retried; this one is done."),
    ],
)  # fmt: skip
def test_controls_that_do_not_fit_the_state_are_refused(kb, django_capture_on_commit_callbacks, service, status,
                                                        message):  # fmt: skip
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as err, account_context(kb.tenants.a.id):
        service(document=document, actor=kb.tenants.alice_membership)
    assert err.value.message == message
    assert fresh(kb, document).status == status


def test_a_viewer_cannot_upload_and_nothing_is_stored(kb, django_capture_on_commit_callbacks):
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory, UserFactory

    viewer = MembershipFactory(account=kb.tenants.a, user=UserFactory(), role=Role.VIEWER)
    with pytest.raises(Forbidden), account_context(kb.tenants.a.id):
        docs.document_upload(account=kb.tenants.a, actor=viewer, unit=kb.unit, upload=upload("a.txt", "text"))
    with account_context(kb.tenants.a.id):
        assert Document.objects.filter(unit=kb.unit).count() == 0


def test_the_same_file_twice_in_a_unit_is_a_conflict(kb, django_capture_on_commit_callbacks):
    first = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as err:
        kb.add("copy of handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    assert (err.value.message, err.value.code) == (
        "This file is already in the unit as 'handbook.pdf'.", "duplicate_document"
    )  # fmt: skip
    assert err.value.extra == {"document_id": str(first.pk)}
    with account_context(kb.tenants.a.id):
        assert Document.objects.filter(unit=kb.unit).count() == 1


def test_uploads_over_the_plans_storage_are_refused_and_store_nothing(kb, django_capture_on_commit_callbacks):
    # given a plan of 1 GB of which all but 100 bytes are in use
    from accounts.models import Account

    with account_context(kb.tenants.a.id):
        Account.objects.filter(pk=kb.tenants.a.pk).update(storage_limit_gb=1)
        kb.tenants.a.refresh_from_db()
        Document.objects.create(account=kb.tenants.a, unit=kb.unit, name="huge.bin", file="knowledge/x/huge.bin",
                                size=1024**3 - 100, sha256="0" * 64, kind="txt", status="done")  # fmt: skip
    # when a 120-byte file is uploaded
    with pytest.raises(LimitReached) as err:
        kb.add("notes.txt", "n" * 120, capture=django_capture_on_commit_callbacks)
    # then
    assert err.value.status == 409
    assert err.value.message == (
        "Your plan allows 1 GB of storage; 1024.0 MB are in use and this file needs 120 bytes. "
        "Delete documents or upgrade the plan to upload it."
    )
    assert err.value.extra == {"limit": 1024**3, "used": 1024**3 - 100, "name": "storage_bytes"}
    with account_context(kb.tenants.a.id):
        assert list(Document.objects.filter(unit=kb.unit).values_list("name", flat=True)) == ["huge.bin"]
    # but a file that fits is taken
    assert kb.add("short.txt", "n" * 100, capture=django_capture_on_commit_callbacks).status == "done"


def test_deleting_a_document_deletes_its_chunks_and_file(kb, django_capture_on_commit_callbacks):
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    name = document.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True), account_context(kb.tenants.a.id):
        docs.document_delete(document=document, actor=kb.tenants.bob_membership)
    with account_context(kb.tenants.a.id):
        assert Chunk.objects.filter(document_id=document.pk).count() == 0
        kb.unit.refresh_from_db()
    assert not default_storage.exists(name)
    assert (kb.unit.chunk_count, kb.unit.status) == (0, "active")


def test_a_new_embedding_model_re_embeds_every_document_into_one_set(kb, django_capture_on_commit_callbacks):
    # given a second 384-dimensional model and an ingested document
    from aiplatform.ai.models import AiModel

    minilm = minilm_model()
    AiModel.objects.create(name="local-minilm-2", provider="local", provider_model=minilm.provider_model,
                           kind="embedding", dimensions=384)  # fmt: skip
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    # when the unit switches model
    with django_capture_on_commit_callbacks(execute=True), account_context(kb.tenants.a.id):
        unit_update(unit=kb.unit, actor=kb.tenants.alice_membership, embedding_model="local-minilm-2")
    # then the document's chunks are the new model's only
    with account_context(kb.tenants.a.id):
        models = list(Chunk.objects.filter(document=document).values_list("position", "model"))
    assert sorted(models) == [(0, "local-minilm-2"), (1, "local-minilm-2")]
    assert (fresh(kb, document).status, fresh(kb, document).embedding_model) == ("done", "local-minilm-2")


def test_a_model_of_another_size_is_refused(kb):
    from aiplatform.ai.models import AiModel
    from aiplatform.errors import InvalidInput

    AiModel.objects.create(name="wide", provider="openai", provider_model="wide", kind="embedding", dimensions=1536)
    with pytest.raises(InvalidInput) as err, account_context(kb.tenants.a.id):
        unit_update(unit=kb.unit, actor=kb.tenants.alice_membership, embedding_model="wide")
    assert err.value.fields == {"embedding_model": [
        "The model 'wide' makes 1536-dimensional vectors; knowledge stores 384-dimensional ones. "
        "Choose a 384-dimensional model."]}  # fmt: skip


def _hold_lock_elsewhere(document_id: str) -> psycopg.Connection:
    """A second database session holding the document's advisory lock, like a live worker."""
    from django.db import connection

    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k in {"host", "port", "user", "dbname"}},
                            autocommit=True)  # fmt: skip
    other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LOCK_CLASS, document_id])
    return other


def test_the_sweep_requeues_a_document_whose_worker_died_but_not_one_being_worked_on(
    kb, django_capture_on_commit_callbacks
):
    # given two documents left "embedding": one by a dead worker, one held by a live one
    orphan = queued(kb, "a.txt", files.TEXT, capture=django_capture_on_commit_callbacks)
    busy = queued(kb, "b.md", files.MARKDOWN, capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id):
        Document.objects.filter(pk__in=[orphan.pk, busy.pk]).update(status="embedding")
    other = _hold_lock_elsewhere(str(busy.pk))
    try:
        # when the sweep runs (its re-queued message runs eagerly on commit)
        with django_capture_on_commit_callbacks(execute=True):
            requeued = ingestion_sweep()
    finally:
        other.close()
    # then
    assert requeued == 1
    assert (fresh(kb, orphan).status, fresh(kb, orphan).chunk_count) == ("done", 1)
    assert (fresh(kb, busy).status, fresh(kb, busy).run_id) == ("embedding", busy.run_id)


def test_media_of_the_tests_is_a_temporary_folder():
    assert "/media" in str(django_settings.MEDIA_ROOT) and ".data" not in str(django_settings.MEDIA_ROOT)
