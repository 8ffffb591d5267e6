"""Ingestion through a real Celery worker process on the embedded Redis broker:
killed with SIGKILL in the middle of a document it resumes after a restart and
indexes exactly one set of chunks; paused between batches it stops, and
resumed it finishes. Eager mode is off here; the data is committed
(transactional database) so the worker's own connection sees it."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from accounts.actors import system_actor
from accounts.tenancy.context import account_context
from aiplatform import celery_app
from billing.models import UsageRecord
from knowledge.models import Chunk, Document, StagedChunk
from knowledge.services.documents import document_pause, document_resume, document_upload
from knowledge.services.units import unit_create
from tests.billing.factories import fund
from tests.knowledge.factories import minilm_model, upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
PARAGRAPHS = 180
BATCH = 32  # KNOWLEDGE_EMBED_BATCH's default, which the worker runs with
WAIT = 240  # seconds; the worker loads the model (~10 s) and embeds ~20-100 chunks/s on 2 busy cores

SUBJECTS = ["The depot", "Our carrier", "The night shift", "Each pallet", "The forklift fleet", "A reefer trailer",
            "The customs broker", "Every inbound load", "The returns desk", "The yard manager"]  # fmt: skip
VERBS = ["checks", "records", "reroutes", "consolidates", "inspects", "schedules", "weighs", "labels"]
OBJECTS = ["damaged cartons before noon", "temperature logs at every stop", "partial loads into full trucks",
           "invoices against purchase orders", "dock doors by priority", "hazardous goods separately",
           "late shipments for the weekly review", "spare batteries in the charging bay"]  # fmt: skip


def big_text(paragraphs: int) -> str:
    """Distinct paragraphs of about 110 tokens."""
    out = []
    for p in range(paragraphs):
        sentences = [
            f"{SUBJECTS[(p + i) % 10]} {VERBS[(p * 3 + i) % 8]} {OBJECTS[(p * 5 + i * 3) % 8]} in week {p * 7 + i}."
            for i in range(10)
        ]
        out.append(" ".join(sentences))
    return "\n\n".join(out)


def expected_chunks() -> int:
    from knowledge.services.chunking import chunk_segments
    from knowledge.services.extraction import extract

    drafts = chunk_segments(extract(big_text(PARAGRAPHS).encode(), "txt"), size=settings.KNOWLEDGE_CHUNK_TOKENS,
                            overlap=settings.KNOWLEDGE_CHUNK_OVERLAP)  # fmt: skip
    return len(drafts)


class WorkerProcess:
    """`celery -A aiplatform worker` in its own process (solo pool, so SIGKILL stops all of it)."""

    def __init__(self, media_root: str, log: Path):
        self.media_root, self.log = media_root, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.knowledge.worker_settings",
            "KNOWLEDGE_WORKER_MEDIA_ROOT": self.media_root,
            "AIPLATFORM_DATA_DIR": str(settings.DATA_DIR),
        }
        command = [sys.executable, "-m", "celery", "-A", "aiplatform", "worker", "-P", "solo", "-Q", "default",
                   "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(settings, tmp_path):
    """Eager mode off in this process; a worker subprocess sharing the test's media folder."""
    overrides = {"task_always_eager": False}
    saved = {key: celery_app.conf[key] for key in overrides}
    celery_app.conf.update(overrides)
    celery_app.control.purge()  # a message left by an interrupted run would be taken first
    process = WorkerProcess(str(settings.MEDIA_ROOT), tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()
    celery_app.control.purge()
    celery_app.conf.update(saved)


@pytest.fixture
def big_document(tenants, settings):
    """Account A (funded) with a unit and an uploaded text file of 171 chunks, queued for the worker."""
    settings.AI_DEFAULT_EMBEDDING_MODEL = minilm_model().name
    with account_context(tenants.a.id):
        fund(tenants.a, "100")
        unit = unit_create(account=tenants.a, actor=tenants.alice_membership, name="Operations")
        document = document_upload(account=tenants.a, actor=tenants.alice_membership, unit=unit,
                                   upload=upload("operations.txt", big_text(PARAGRAPHS)))  # fmt: skip
    return document


def read(document: Document) -> Document:
    with account_context(document.account_id):
        return Document.objects.get(pk=document.pk)


def wait_for(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def chunk_sets(document: Document) -> tuple[int, int, int, list[int]]:
    """(chunks, distinct (position, model), staged, positions) of the document."""
    with account_context(document.account_id):
        rows = Chunk.objects.filter(document=document)
        distinct = rows.values("position", "model").annotate(n=Count("id")).count()
        positions = sorted(rows.values_list("position", flat=True))
        return rows.count(), distinct, StagedChunk.objects.filter(document=document).count(), positions


def ingest_batches(document: Document) -> int:
    with account_context(document.account_id):
        return UsageRecord.objects.filter(account_id=document.account_id, feature="knowledge_ingest").count()


def test_a_worker_killed_mid_document_resumes_and_indexes_one_set_of_chunks(worker, big_document):
    document = big_document
    # given the worker embedding the document, two batches committed
    wait_for(lambda: read(document).status == "embedding" and read(document).chunks_embedded >= 2 * BATCH,
             "two embedded batches", worker.log)  # fmt: skip
    # when it is killed with SIGKILL
    worker.kill()
    # then the document is stranded mid-embedding: staged work, nothing indexed, not done
    stranded = read(document)
    total = stranded.chunks_total
    count, _, staged, _ = chunk_sets(document)
    assert (stranded.status, count) == ("embedding", 0)
    assert staged == stranded.chunks_embedded and 2 * BATCH <= staged < total
    # when a worker starts again (the broker delivers the unacknowledged message again)
    worker.start()
    wait_for(lambda: read(document).status == "done", "the document to be done", worker.log)
    # then exactly one set of chunks, every position once, nothing left staged
    assert total == expected_chunks()
    assert chunk_sets(document) == (total, total, 0, list(range(total)))
    assert read(document).chunk_count == total
    # and the staged batches were not embedded again (at most the batch in flight at the kill is repeated)
    assert ingest_batches(document) <= math.ceil(total / BATCH) + 1


def test_pause_stops_the_worker_between_batches_and_resume_finishes(worker, big_document):
    document = big_document
    # given the worker embedding
    wait_for(lambda: read(document).chunks_embedded >= BATCH, "one embedded batch", worker.log)
    # when paused
    with account_context(document.account_id):
        document_pause(document=read(document), actor=system_actor("test"))

    # then the worker stops after its current batch (its task ends "stopped"), the work so far kept as staged
    wait_for(lambda: "succeeded" in worker.log.read_text() and "'stopped'" in worker.log.read_text(),
             "the worker to stop", worker.log)  # fmt: skip
    paused = read(document)
    count, _, staged, _ = chunk_sets(document)
    assert paused.status == "paused"
    assert (count, staged) == (0, paused.chunks_embedded)
    assert paused.chunks_embedded < paused.chunks_total
    # when resumed
    with account_context(document.account_id):
        document_resume(document=paused, actor=system_actor("test"))
    wait_for(lambda: read(document).status == "done", "the document to be done", worker.log)
    # then one set of chunks
    total = read(document).chunks_total
    assert chunk_sets(document) == (total, total, 0, list(range(total)))
    assert ingest_batches(document) <= math.ceil(total / BATCH) + 1
