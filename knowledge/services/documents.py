"""Documents: upload, and the user's controls over ingestion (pause, resume,
cancel, retry, re-run, delete). The worker side is `ingestion.py`."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.actors import Actor, require_role
from accounts.models import Account, Role
from aiplatform.errors import Conflict
from billing.services.usage import count
from knowledge.events import document_changed
from knowledge.models import DecisionUnit, Document, StagedChunk

from .extraction import kind_of, mime_type_of, unsupported_message
from .storage import human_bytes, storage_check
from .units import unit_refresh

Status = Document.Status


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for piece in upload.chunks():
        digest.update(piece)
    upload.seek(0)
    return digest.hexdigest()


def _rejection(upload: UploadedFile, kind: str) -> str:
    """Why an upload cannot be ingested at all, or "" when it can be tried."""
    limit = settings.KNOWLEDGE_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size == 0:
        return "The file is empty."
    if upload.size > limit:
        return (
            f"This file is {human_bytes(upload.size)}; files up to {settings.KNOWLEDGE_MAX_UPLOAD_MB} MB "
            "can be uploaded. Split it into smaller files."
        )
    if kind == Document.Kind.UNKNOWN:
        return unsupported_message(upload.name or "")
    return ""


def document_upload(*, account: Account, actor: Actor, unit: DecisionUnit, upload: UploadedFile) -> Document:
    """Store the file and queue its ingestion.

    The same bytes already in the unit: Conflict (409). Over the plan's storage:
    LimitReached (409), nothing stored. An empty, oversized or unsupported file
    becomes a document in `error` that says why, and nothing is stored."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot upload documents."))
    name = PurePath(upload.name or "document").name[:255] or "document"
    sha256 = _sha256(upload)
    kind = kind_of(name)
    existing = Document.objects.filter(unit=unit, sha256=sha256).first()
    if existing is not None:
        raise Conflict(
            gettext("This file is already in the unit as '%(name)s'.") % {"name": existing.name},
            code="duplicate_document",
            extra={"document_id": str(existing.id)},
        )
    rejection = _rejection(upload, kind)
    document = Document(
        id=uuid.uuid4(), account=account, unit=unit, name=name, size=upload.size, sha256=sha256,
        mime_type=mime_type_of(name, getattr(upload, "content_type", "") or ""), kind=kind,
        uploaded_by=actor.user if actor else None,
    )  # fmt: skip
    if rejection:
        document.status, document.error, document.finished_at = Status.ERROR, rejection, timezone.now()
        return _insert(document, stored=False)
    with transaction.atomic():
        storage_check(account=account, adding=upload.size)
        document.file.save(name, upload, save=False)
        try:
            document = _insert(document, stored=True)
        except BaseException:
            document.file.delete(save=False)
            raise
        count(account, actor.user if actor else None, storage_bytes_used=document.size)
        _enqueue(document, fresh=True)
    return document


def _insert(document: Document, *, stored: bool) -> Document:
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError:
        # Two uploads of the same bytes at once: the unique index let one through.
        raise Conflict(gettext("This file is already in the unit."), code="duplicate_document")
    if not stored:
        unit_refresh(document.unit_id)
        document_changed(document)
    return document


def _enqueue(document: Document, *, fresh: bool) -> None:
    """Start a new ingestion run: its own run id, so a message of an older run is
    ignored. `fresh` drops what earlier runs embedded; a resume keeps it."""
    from knowledge.tasks import document_ingest

    if fresh:
        StagedChunk.objects.filter(document=document).delete()
        document.chunks_embedded = 0
    now = timezone.now()
    document.status, document.error, document.run_id = Status.QUEUED, "", uuid.uuid4()
    document.queued_at, document.finished_at = now, None
    document.parsing_started_at = document.splitting_started_at = None
    document.embedding_started_at = document.indexing_started_at = None
    document.save()
    unit_refresh(document.unit_id)
    document_changed(document)
    kwargs = {"account_id": str(document.account_id), "document_id": str(document.id), "run_id": str(document.run_id)}
    transaction.on_commit(lambda: document_ingest.apply_async(kwargs=kwargs))


def _locked(document: Document) -> Document:
    return Document.objects.select_for_update().get(pk=document.pk)


def _stop(document: Document, status: str) -> Document:
    document.status = status
    if status == Status.CANCELLED:
        document.finished_at = timezone.now()
        StagedChunk.objects.filter(document=document).delete()
    document.save()
    unit_refresh(document.unit_id)
    document_changed(document)
    return document


@transaction.atomic
def document_pause(*, document: Document, actor: Actor) -> Document:
    """Stop after the current batch; what is embedded so far is kept for resuming."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot pause documents."))
    document = _locked(document)
    if document.status not in Document.IN_PROGRESS:
        raise Conflict(
            gettext("Only a queued or running document can be paused; this one is %(status)s.")
            % {"status": document.status}
        )
    return _stop(document, Status.PAUSED)


@transaction.atomic
def document_resume(*, document: Document, actor: Actor) -> Document:
    require_role(actor, Role.MEMBER, gettext("Viewers cannot resume documents."))
    document = _locked(document)
    if document.status != Status.PAUSED:
        raise Conflict(
            gettext("Only a paused document can be resumed; this one is %(status)s.") % {"status": document.status}
        )
    _enqueue(document, fresh=False)
    return document


@transaction.atomic
def document_cancel(*, document: Document, actor: Actor) -> Document:
    """Stop and drop the unfinished run. Chunks indexed by an earlier run stay."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot cancel documents."))
    document = _locked(document)
    if document.status not in (*Document.IN_PROGRESS, Status.PAUSED):
        raise Conflict(
            gettext("Only a queued, running or paused document can be cancelled; this one is %(status)s.")
            % {"status": document.status}
        )
    return _stop(document, Status.CANCELLED)


@transaction.atomic
def document_retry(*, document: Document, actor: Actor) -> Document:
    require_role(actor, Role.MEMBER, gettext("Viewers cannot retry documents."))
    document = _locked(document)
    if document.status not in (Status.ERROR, Status.CANCELLED):
        raise Conflict(
            gettext("Only a failed or cancelled document can be retried; this one is %(status)s.")
            % {"status": document.status}
        )
    if not document.file:
        raise Conflict(gettext("This upload was not stored, so there is nothing to retry. Upload a corrected file."))
    _enqueue(document, fresh=True)
    return document


@transaction.atomic
def document_reingest(*, document: Document, actor: Actor) -> Document:
    """Ingest again from the start (operators' re-run, a new embedding model),
    whatever the state; a run in progress stops at its next batch."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot re-run ingestion."))
    document = _locked(document)
    if not document.file:
        raise Conflict(gettext("This upload was not stored, so there is nothing to ingest. Upload a corrected file."))
    _enqueue(document, fresh=True)
    return document


def document_delete(*, document: Document, actor: Actor) -> None:
    """Delete the document, its chunks and its stored file (after commit)."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot delete documents."))
    storage, name = document.file.storage, document.file.name
    with transaction.atomic():
        unit_id = document.unit_id
        document.delete()
        unit_refresh(unit_id)
        if name:
            count(document.account_id, actor.user if actor else None, storage_bytes_used=-document.size)
            transaction.on_commit(lambda: storage.delete(name))
