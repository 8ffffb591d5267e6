"""Chunks with their vectors (seed 000 `du_embeddings`, in pgvector)."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from accounts.tenancy.models import TenantModel

# The vector column's size, which is the default model's (all-MiniLM-L6-v2).
# An embedding model of another size is refused for a unit; docs/adr/0003-retrieval.md
# says how a second size would be added (a column and an HNSW index per size).
EMBEDDING_DIMENSIONS = 384
# Full-text configuration: fixed, because the generated column and the query must agree.
TEXT_SEARCH_CONFIG = "english"


class _ChunkFields(models.Model):
    """What a chunk is: its text, where it came from, and its vector."""

    unit = models.ForeignKey("knowledge.DecisionUnit", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey("knowledge.Document", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(help_text=_("Order of the chunk within its document, from 0."))
    page = models.PositiveIntegerField(null=True, blank=True, help_text=_("PDF page or spreadsheet sheet, from 1."))
    row = models.PositiveIntegerField(null=True, blank=True, help_text=_("First CSV/XLSX data row, from 1."))
    row_end = models.PositiveIntegerField(null=True, blank=True, help_text=_("Last data row in the chunk."))
    section = models.CharField(max_length=200, blank=True, help_text=_("Sheet name, for citations."))
    char_offset = models.PositiveIntegerField(default=0, help_text=_("Start within its page, row or text."))
    token_count = models.PositiveIntegerField(default=0)
    text = models.TextField()
    model = models.CharField(max_length=100, help_text=_("Registry name of the embedding model."))
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.document_id} #{self.position} ({self.model})"

    @property
    def citation(self) -> str:
        return citation_for(self.page, self.row, self.row_end, self.section)


def citation_for(page: int | None, row: int | None, row_end: int | None, section: str) -> str:
    """ "page 3", "rows 4-9", "sheet Prices, row 2": where a passage is in its file."""
    parts = []
    if section:
        parts.append(f"sheet {section}")
    elif page is not None:
        parts.append(f"page {page}")
    if row is not None:
        parts.append(f"rows {row}-{row_end}" if row_end and row_end != row else f"row {row}")
    return ", ".join(parts)


class Chunk(TenantModel, _ChunkFields):
    """An indexed, searchable chunk. A document's chunks are replaced as one set
    by the indexing step, so exactly one set per (document, model) is ever live."""

    search_vector = models.GeneratedField(
        expression=SearchVector("text", config=TEXT_SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position", "model"], name="knowledge_chunk_unique_position"),
        ]
        indexes = [
            # Cosine distance, as the models' vectors are compared. ef_construction twice pgvector's default:
            # overlapping chunks make near-duplicate clusters that a sparser graph can miss (docs/adr/0003).
            HnswIndex(
                name="knowledge_chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=128,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="knowledge_chunk_text_gin"),
            # Filtered search of a small account or unit: exact distances over these rows.
            models.Index(fields=["account", "unit", "model"], name="knowledge_chunk_scope_idx"),
        ]


class StagedChunk(TenantModel, _ChunkFields):
    """Embedded but not yet indexed: what an ingestion run has done so far.

    A worker killed or paused mid-document resumes from these rows; the indexing
    step moves them into Chunk in one transaction, so no document is ever half
    indexed."""

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position", "model"], name="knowledge_staged_unique_position"),
        ]
