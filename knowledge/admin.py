"""Operators: decision units, documents with their status and errors (and a
re-run of ingestion), chunks read-only. Admin requests run with row-level
security lifted (TenantMiddleware), so every account's rows show here."""

from __future__ import annotations

from django.contrib import admin, messages

from accounts.actors import system_actor
from aiplatform.errors import ServiceError

from .models import Chunk, DecisionUnit, Document
from .services.documents import document_reingest


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DocumentInline(ReadOnlyMixin, admin.TabularInline):
    model = Document
    fields = ["name", "kind", "status", "chunk_count", "error", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DecisionUnit)
class DecisionUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "status", "embedding_model", "chunk_count", "updated_at"]
    list_filter = ["status", "embedding_model"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account"]
    readonly_fields = ["account", "status", "chunk_count", "created_by", "created_at", "updated_at"]
    fields = ["account", "name", "description", "status", "embedding_model", "vector_weight", "text_weight",
              "chunk_count", "created_by", "created_at", "updated_at"]  # fmt: skip
    inlines = [DocumentInline]

    def has_add_permission(self, request):
        return False  # units belong to an account's members; operators inspect and fix


@admin.register(Document)
class DocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "unit", "account", "kind", "status", "chunks_embedded", "chunks_total", "chunk_count",
                    "error", "created_at"]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["name", "sha256", "unit__name", "account__name"]
    list_select_related = ["unit", "account"]
    readonly_fields = [
        "account", "unit", "name", "file", "size", "sha256", "mime_type", "kind", "status", "error", "embedding_model",
        "chunks_total", "chunks_embedded", "chunk_count", "run_id", "queued_at", "parsing_started_at",
        "splitting_started_at", "embedding_started_at", "indexing_started_at", "finished_at", "uploaded_by",
        "created_at",
    ]  # fmt: skip
    actions = ["rerun_ingestion"]

    @admin.action(description="Re-run ingestion of the selected documents")
    def rerun_ingestion(self, request, queryset):
        queued, refused = 0, []
        for document in queryset:
            try:
                document_reingest(document=document, actor=system_actor(f"admin {request.user}: re-run ingestion"))
                queued += 1
            except ServiceError as exc:
                refused.append(f"{document.name}: {exc.message}")
        if queued:
            self.message_user(request, f"Queued {queued} document(s) for ingestion.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)


@admin.register(Chunk)
class ChunkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["document", "position", "citation", "model", "token_count", "account"]
    list_filter = ["model"]
    search_fields = ["text", "document__name"]
    list_select_related = ["document", "account"]
    fields = ["account", "unit", "document", "position", "page", "row", "row_end", "section", "char_offset",
              "token_count", "model", "text"]  # fmt: skip
    readonly_fields = fields
