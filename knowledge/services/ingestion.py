"""The ingestion pipeline a Celery worker runs for one document:
parse -> split -> embed (in batches) -> index.

Safe to run twice and to kill at any point:

* one worker at a time per document: a session-level PostgreSQL advisory lock,
  which the server drops when the worker's connection dies (kill -9 included);
* each run has an id; every write is conditional on the document still being
  in that run and in a working state, so pause, cancel, delete and a newer run
  stop an older one at its next batch;
* embedded batches are committed to `StagedChunk` as they finish, so a resumed
  run (after a pause, a crash, a redelivered message) embeds only what is missing;
* indexing replaces the document's chunks with the staged ones in one
  transaction: a document is never half indexed and marked done.

Each step commits on its own (progress must be visible while the work goes on),
inside the document's account context.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai.errors import ProviderError, ProviderMisconfigured
from aiplatform.errors import InsufficientCredits, ServiceError
from knowledge.events import document_changed
from knowledge.extractors import ExtractionError
from knowledge.models import Document, StagedChunk

from .chunking import ChunkDraft, chunk_segments
from .embedding import INGEST_FEATURE, embed_texts
from .extraction import extract
from .units import unit_refresh

log = logging.getLogger(__name__)
Status = Document.Status

LOCK_CLASS = 0x4B44  # advisory lock namespace: "KD", knowledge document
GENERIC_ERROR = "Something went wrong while processing this document. Retry it; if it fails again, contact support."


def _batches(items: Sequence[ChunkDraft], size: int) -> Iterator[tuple[ChunkDraft, ...]]:
    for at in range(0, len(items), size):
        yield tuple(items[at : at + size])


class Busy(Exception):
    """Another worker holds the document; try again shortly."""


class ProviderTrouble(Exception):
    """The embedding provider failed in a way that may pass; retry the task later."""


class _Stopped(Exception):
    """The run is no longer current (paused, cancelled, deleted, superseded)."""


@contextmanager
def document_lock(document_id: str) -> Iterator[bool]:
    """Hold the document's advisory lock on this connection for the block; yields
    False (and holds nothing) when another session has it."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_CLASS, document_id])
        locked = cur.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_CLASS, document_id])


def document_ingest(*, account_id: str, document_id: str, run_id: str, last_attempt: bool = True) -> str:
    """Run (or resume) ingestion run `run_id` of the document. Returns what
    happened: done, error, stopped, or stale (not this run's turn any more).
    Busy when another worker holds the document; ProviderTrouble (unless
    `last_attempt`) when the provider may recover."""
    with document_lock(document_id) as locked:
        if not locked:
            raise Busy(document_id)
        with account_context(account_id):
            document = Document.objects.select_related("unit").filter(pk=document_id).first()
            account = Account.objects.filter(pk=account_id).first()
        if document is None or account is None or str(document.run_id) != run_id:
            return "stale"
        if document.status not in Document.IN_PROGRESS:
            return "stale"
        return _Run(account, document).run(last_attempt=last_attempt)


class _Run:
    def __init__(self, account: Account, document: Document):
        self.account = account
        self.document = document
        self.model = document.unit.embedding_model

    def _context(self):
        return account_context(self.account.id)

    def run(self, *, last_attempt: bool) -> str:
        try:
            self._advance(Status.PARSING)
            segments = extract(self._read(), self.document.kind)
            self._advance(Status.SPLITTING)
            drafts = chunk_segments(
                segments, size=settings.KNOWLEDGE_CHUNK_TOKENS, overlap=settings.KNOWLEDGE_CHUNK_OVERLAP
            )
            self._embed(drafts)
            self._index(drafts)
            return "done"
        except _Stopped:
            return "stopped"
        except ExtractionError as exc:
            return self._fail(exc.message)
        except InsufficientCredits as exc:
            return self._fail(f"The account ran out of credits while embedding this document: {exc.message} "
                              "Top up, then retry the document.")  # fmt: skip
        except ProviderMisconfigured as exc:
            return self._fail(f"The embedding model '{self.model}' cannot be used right now: {exc.message}")
        except ProviderError as exc:
            if not last_attempt:
                # Back in the queue, not in a worker's state, so the sweep leaves it to the retry.
                self._write(status=Status.QUEUED)
                raise ProviderTrouble(exc.message) from exc
            return self._fail(f"The embedding service failed: {exc.message} Retry the document later.")
        except ServiceError as exc:
            return self._fail(f"Embedding with '{self.model}' failed: {exc.message}")
        except Exception:
            # The worker must keep running: log for operators, tell the user plainly.
            log.exception("ingestion of document %s failed", self.document.pk)
            return self._fail(GENERIC_ERROR)

    # --- steps -------------------------------------------------------------------

    def _read(self) -> bytes:
        try:
            with self.document.file.open("rb") as fh:
                return fh.read()
        except (OSError, ValueError) as exc:
            log.warning("stored file of document %s unreadable: %r", self.document.pk, exc)
            raise ExtractionError("The stored file could not be read. Upload the file again.")

    def _write(self, **fields: Any) -> None:
        """Update the document if this run still owns it; _Stopped otherwise."""
        fields["updated_at"] = timezone.now()
        with self._context():
            updated = Document.objects.filter(
                pk=self.document.pk, run_id=self.document.run_id, status__in=Document.IN_PROGRESS
            ).update(**fields)
            if not updated:
                raise _Stopped
            for name, value in fields.items():
                setattr(self.document, name, value)
            document_changed(self.document)

    def _advance(self, status: str, **fields: Any) -> None:
        self._write(status=status, **{f"{status}_started_at": timezone.now()}, **fields)

    def _embed(self, drafts: list[ChunkDraft]) -> None:
        document = self.document
        with self._context():
            # Work of an earlier run of this document is reused where it still matches.
            StagedChunk.objects.filter(document=document).exclude(model=self.model).delete()
            staged = dict(StagedChunk.objects.filter(document=document).values_list("position", "text"))
            wanted = {d.position: d.text for d in drafts}
            stale = [p for p, text in staged.items() if wanted.get(p) != text]
            StagedChunk.objects.filter(document=document, position__in=stale).delete()
        todo = [d for d in drafts if staged.get(d.position) != d.text]
        done = len(drafts) - len(todo)
        self._advance(Status.EMBEDDING, chunks_total=len(drafts), chunks_embedded=done)
        for batch in _batches(todo, settings.KNOWLEDGE_EMBED_BATCH):
            self._check()
            with self._context():
                vectors = embed_texts(
                    account=self.account, model=self.model, texts=[d.text for d in batch], feature=INGEST_FEATURE,
                    user=document.uploaded_by,
                )  # fmt: skip
            done += len(batch)
            self._stage(batch, vectors, done)

    def _check(self) -> None:
        with self._context():
            current = Document.objects.filter(pk=self.document.pk).values_list("run_id", "status").first()
        if current is None or current[0] != self.document.run_id or current[1] not in Document.WORKING:
            raise _Stopped

    def _stage(self, batch: tuple[ChunkDraft, ...], vectors: list[list[float]], done: int) -> None:
        document = self.document
        with self._context():
            current = Document.objects.select_for_update().filter(pk=document.pk).values_list("status", "run_id")
            status, run_id = current.first() or (None, None)
            # Kept even when paused or superseded meanwhile (the next run reuses what still
            # matches its chunks); not for a cancelled or deleted document.
            if status is None or status == Status.CANCELLED:
                raise _Stopped
            StagedChunk.objects.bulk_create(
                [
                    StagedChunk(
                        account_id=document.account_id,
                        unit_id=document.unit_id,
                        document_id=document.pk,
                        position=d.position,
                        page=d.page,
                        row=d.row,
                        row_end=d.row_end,
                        section=d.section,
                        char_offset=d.char_offset,
                        token_count=d.token_count,
                        text=d.text,
                        model=self.model,
                        embedding=vector,
                    )  # fmt: skip
                    for d, vector in zip(batch, vectors, strict=True)
                ]
            )
            Document.objects.filter(pk=document.pk).update(chunks_embedded=done, updated_at=timezone.now())
            document.chunks_embedded, document.status = done, status
            document_changed(document)
        if run_id != document.run_id or status not in Document.WORKING:
            raise _Stopped

    def _index(self, drafts: list[ChunkDraft]) -> None:
        self._advance(Status.INDEXING)
        document = self.document
        with self._context():
            locked = Document.objects.select_for_update().filter(
                pk=document.pk, run_id=document.run_id, status=Status.INDEXING
            )
            if locked.first() is None:
                raise _Stopped
            staged = StagedChunk.objects.filter(document=document, model=self.model).count()
            if staged != len(drafts):
                raise RuntimeError(f"document {document.pk}: {staged} staged chunks, {len(drafts)} expected")
            with connection.cursor() as cur:
                cur.execute("DELETE FROM knowledge_chunk WHERE document_id = %s", [document.pk])
                cur.execute(
                    """
                    INSERT INTO knowledge_chunk (id, account_id, unit_id, document_id, position, page, row, row_end,
                        section, char_offset, token_count, text, model, embedding)
                    SELECT gen_random_uuid(), account_id, unit_id, document_id, position, page, row, row_end,
                        section, char_offset, token_count, text, model, embedding
                    FROM knowledge_stagedchunk WHERE document_id = %s AND model = %s
                    """,
                    [document.pk, self.model],
                )
                cur.execute("DELETE FROM knowledge_stagedchunk WHERE document_id = %s", [document.pk])
            self._write(
                status=Status.DONE, finished_at=timezone.now(), chunk_count=len(drafts), embedding_model=self.model,
                error="",
            )  # fmt: skip
            unit_refresh(document.unit_id)

    def _fail(self, message: str) -> str:
        try:
            with self._context():
                self._write(status=Status.ERROR, error=message, finished_at=timezone.now())
                StagedChunk.objects.filter(document=self.document).delete()
                unit_refresh(self.document.unit_id)
        except _Stopped:
            return "stopped"
        return "error"


def ingestion_sweep() -> int:
    """Re-queue documents left in a working state by a worker that died (its
    advisory lock is gone with its connection). Returns how many. Platform sweep."""
    from .documents import _enqueue

    with rls_bypass("knowledge: find documents orphaned by a dead worker"):
        candidates = list(Document.objects.filter(status__in=Document.WORKING).values_list("pk", "account_id"))
    requeued = 0
    for pk, account_id in candidates:
        with document_lock(str(pk)) as free:
            if not free:
                continue  # a live worker has it
        with account_context(account_id):
            document = Document.objects.select_for_update().filter(pk=pk, status__in=Document.WORKING).first()
            if document is not None:
                log.warning("re-queueing document %s, orphaned in %s", pk, document.status)
                _enqueue(document, fresh=False)
                requeued += 1
    return requeued
