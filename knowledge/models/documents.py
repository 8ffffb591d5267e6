"""Documents uploaded into a decision unit, with their ingestion state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel


def document_upload_to(document: Document, filename: str) -> str:
    # One folder per document: names never collide and deleting removes one folder.
    return f"knowledge/{document.account_id}/{document.unit_id}/{document.id}/{filename}"


class Document(TenantModel):
    """One uploaded file and where its ingestion stands.

    `status` is the stage the worker is in (parsing, splitting, embedding n/N,
    indexing) or where it ended; each stage records when it started. A document
    rejected at upload (empty, too large, unsupported) has no stored file.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PARSING = "parsing", _("Parsing")
        SPLITTING = "splitting", _("Splitting")
        EMBEDDING = "embedding", _("Embedding")
        INDEXING = "indexing", _("Indexing")
        DONE = "done", _("Done")
        ERROR = "error", _("Error")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", _("Word")
        CSV = "csv", "CSV"
        XLSX = "xlsx", _("Excel")
        TXT = "txt", _("Text")
        MARKDOWN = "md", "Markdown"
        HTML = "html", "HTML"
        UNKNOWN = "unknown", _("Unsupported")

    # A worker owns the document while it is in one of these.
    WORKING = (Status.PARSING, Status.SPLITTING, Status.EMBEDDING, Status.INDEXING)
    IN_PROGRESS = (Status.QUEUED, *WORKING)

    unit = models.ForeignKey("knowledge.DecisionUnit", on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(max_length=255, help_text=_("The uploaded file's name."))
    file = models.FileField(upload_to=document_upload_to, max_length=500, blank=True)
    size = models.BigIntegerField(help_text="Bytes.")
    sha256 = models.CharField(max_length=64)
    mime_type = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True, help_text=_("Why ingestion failed, in words the user understands."))
    embedding_model = models.CharField(max_length=100, blank=True, help_text=_("Model of the indexed chunks."))
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_embedded = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0, help_text=_("Indexed (searchable) chunks."))
    # The current ingestion run; a message of an older run is ignored.
    run_id = models.UUIDField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    parsing_started_at = models.DateTimeField(null=True, blank=True)
    splitting_started_at = models.DateTimeField(null=True, blank=True)
    embedding_started_at = models.DateTimeField(null=True, blank=True)
    indexing_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["account", "unit", "-created_at"]),
            models.Index(fields=["status"], name="knowledge_doc_status_idx"),
        ]
        constraints = [
            # The same bytes twice in one unit is a duplicate upload.
            models.UniqueConstraint(fields=["unit", "sha256"], name="knowledge_document_unique_file_per_unit"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def stage_label(self) -> str:
        if self.status == self.Status.EMBEDDING:
            return f"Embedding {self.chunks_embedded}/{self.chunks_total}"
        if self.status == self.Status.PAUSED and self.chunks_total:
            return f"Paused at {self.chunks_embedded}/{self.chunks_total}"
        return self.get_status_display()

    @property
    def stage_times(self) -> list[tuple[str, object]]:
        """(stage, started at) for every stage reached, in order."""
        stages = [
            ("queued", self.queued_at),
            ("parsing", self.parsing_started_at),
            ("splitting", self.splitting_started_at),
            ("embedding", self.embedding_started_at),
            ("indexing", self.indexing_started_at),
            ("finished", self.finished_at),
        ]
        return [(name, at) for name, at in stages if at is not None]
