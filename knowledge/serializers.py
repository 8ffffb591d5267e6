"""API shapes of the knowledge app."""

from __future__ import annotations

from rest_framework import serializers

from .models import Chunk, DecisionUnit, Document
from .services.retrieval import MAX_K, MAX_QUERY_CHARS


class DecisionUnitSerializer(serializers.ModelSerializer):
    document_count = serializers.IntegerField(read_only=True)
    documents_in_progress = serializers.IntegerField(read_only=True)
    documents_failed = serializers.IntegerField(read_only=True)
    vector_collection_id = serializers.CharField(read_only=True)

    class Meta:
        model = DecisionUnit
        fields = [
            "id", "name", "description", "status", "embedding_model", "vector_weight", "text_weight", "chunk_count",
            "document_count", "documents_in_progress", "documents_failed", "vector_collection_id", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class DecisionUnitWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    embedding_model = serializers.CharField(required=False, max_length=100, help_text="Default: the platform's.")
    vector_weight = serializers.FloatField(required=False, min_value=0, max_value=10)
    text_weight = serializers.FloatField(required=False, min_value=0, max_value=10)


class DocumentSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_label", read_only=True)
    in_progress = serializers.BooleanField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id", "unit", "name", "size", "sha256", "mime_type", "kind", "status", "stage", "in_progress", "error",
            "embedding_model", "chunks_total", "chunks_embedded", "chunk_count", "queued_at", "parsing_started_at",
            "splitting_started_at", "embedding_started_at", "indexing_started_at", "finished_at", "uploaded_by",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DocumentUploadSerializer(serializers.Serializer):
    unit = serializers.UUIDField(help_text="The decision unit to add the file to.")
    file = serializers.FileField(allow_empty_file=True, help_text="PDF, DOCX, CSV, XLSX, TXT, Markdown or HTML.")


class DocumentQuerySerializer(serializers.Serializer):
    unit = serializers.UUIDField(required=False, help_text="Only this unit's documents.")


class ChunkSerializer(serializers.ModelSerializer):
    citation = serializers.CharField(read_only=True)

    class Meta:
        model = Chunk
        fields = ["id", "position", "page", "row", "row_end", "section", "citation", "char_offset", "token_count",
                  "model", "text"]  # fmt: skip
        read_only_fields = fields


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=MAX_QUERY_CHARS)
    unit_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    k = serializers.IntegerField(required=False, default=5, min_value=1, max_value=MAX_K)
    rerank = serializers.BooleanField(required=False, default=False)


class PassageSerializer(serializers.Serializer):
    chunk_id = serializers.UUIDField()
    unit_id = serializers.UUIDField()
    document_id = serializers.UUIDField()
    document_name = serializers.CharField()
    citation = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    row = serializers.IntegerField(allow_null=True)
    row_end = serializers.IntegerField(allow_null=True)
    section = serializers.CharField()
    text = serializers.CharField()
    score = serializers.FloatField(help_text="Reciprocal rank fusion score; higher is better.")
    vector_rank = serializers.IntegerField(allow_null=True)
    text_rank = serializers.IntegerField(allow_null=True)
    distance = serializers.FloatField(allow_null=True, help_text="Cosine distance to the query.")
    rerank_score = serializers.FloatField(allow_null=True)


class RetrievalSerializer(serializers.Serializer):
    query = serializers.CharField()
    plans = serializers.DictField(child=serializers.CharField())
    reranked = serializers.BooleanField()
    passages = PassageSerializer(many=True)
