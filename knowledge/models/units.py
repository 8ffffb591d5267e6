"""Decision units: an account's knowledge bases."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel


class DecisionUnit(TenantModel):
    """A knowledge base ("Margin Low Strategy"): documents, their chunks, and how
    retrieval weighs its two signals.

    Seed 000 columns: `vector_collection_id` names the vector collection; here the
    vectors live in pgvector (`knowledge_chunk`), so the collection is this unit's
    rows of one embedding model, derived rather than stored. Seed 000's
    `file_source` belongs to each document (`Document.file`), since a unit holds
    many files.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        ACTIVE = "active", _("Active")
        ERROR = "error", _("Error")

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    embedding_model = models.CharField(
        max_length=100, help_text=_("Registry name of the embedding model; changing it re-embeds every document.")
    )
    # Reciprocal rank fusion weights of the two retrieval signals (0 switches one off).
    vector_weight = models.FloatField(default=1.0)
    text_weight = models.FloatField(default=1.0)
    # Live chunks of this unit, kept by the indexing step: retrieval picks its plan from it.
    chunk_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["account", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vector_weight__gte=0, text_weight__gte=0)
                & (models.Q(vector_weight__gt=0) | models.Q(text_weight__gt=0)),
                name="knowledge_unit_weights_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def vector_collection_id(self) -> str:
        return f"knowledge_chunk/{self.id}/{self.embedding_model}"
