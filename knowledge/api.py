"""REST API of the knowledge app: decision units, documents (upload, status,
controls, chunks, delete) and search. Every object is the active account's; a
foreign id answers 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy.drf import TenantAPIView, TenantViewSet
from aiplatform.api.pagination import PageNumberPagination
from aiplatform.api.parsers import JSONParser

from . import serializers as s
from .models import DecisionUnit, Document
from .selectors import chunks_of_document, unit_get_for_account, with_document_counts
from .services import documents as docs
from .services.retrieval import retrieve
from .services.units import unit_create, unit_delete, unit_update


class DecisionUnitViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """The account's knowledge bases. Members create and change; owners and admins delete."""

    queryset = DecisionUnit.objects.all()
    serializer_class = s.DecisionUnitSerializer
    action_roles = {"destroy": Role.ADMIN}

    def scope_queryset(self, queryset):
        return with_document_counts(queryset).order_by("name", "id")

    @extend_schema(request=s.DecisionUnitWriteSerializer, responses={201: s.DecisionUnitSerializer})
    def create(self, request):
        data = s.DecisionUnitWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = unit_create(account=self.account, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(unit_get_for_account(self.account, unit.pk)).data, status=201)

    @extend_schema(request=s.DecisionUnitWriteSerializer(partial=True), responses=s.DecisionUnitSerializer)
    def partial_update(self, request, pk=None):
        unit = self.get_object()
        data = s.DecisionUnitWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        unit_update(unit=unit, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(unit_get_for_account(self.account, unit.pk)).data)

    def perform_destroy(self, instance):
        unit_delete(unit=instance, actor=self.membership)


class DocumentViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """Documents of the account's units, newest first; `?unit=` narrows to one unit.
    Upload with multipart form data (`unit`, `file`); ingestion runs in the
    background and `status`/`stage` show where it is."""

    queryset = Document.objects.order_by("-created_at", "id")
    serializer_class = s.DocumentSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def scope_queryset(self, queryset):
        if self.action == "list":
            query = s.DocumentQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            if query.validated_data.get("unit"):
                queryset = queryset.filter(unit_id=query.validated_data["unit"])
        return queryset

    @extend_schema(parameters=[s.DocumentQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": s.DocumentUploadSerializer}, responses={201: s.DocumentSerializer})
    def create(self, request):
        data = s.DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = unit_get_for_account(self.account, data.validated_data["unit"])
        document = docs.document_upload(
            account=self.account, actor=self.membership, unit=unit, upload=data.validated_data["file"]
        )
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        docs.document_delete(document=instance, actor=self.membership)

    def _control(self, service) -> Response:
        document = service(document=self.get_object(), actor=self.membership)
        return Response(self.get_serializer(document).data)

    @extend_schema(request=None, responses=s.DocumentSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Stop after the current batch; resuming continues where it stopped."""
        return self._control(docs.document_pause)

    @extend_schema(request=None, responses=s.DocumentSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._control(docs.document_resume)

    @extend_schema(request=None, responses=s.DocumentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._control(docs.document_cancel)

    @extend_schema(request=None, responses=s.DocumentSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Ingest a failed or cancelled document again from the start."""
        return self._control(docs.document_retry)

    @extend_schema(responses=s.ChunkSerializer(many=True))
    @action(detail=True, methods=["get"])
    def chunks(self, request, pk=None):
        """The document's indexed chunks, in order."""
        document = self.get_object()
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(chunks_of_document(self.account, document), request, view=self)
        return paginator.get_paginated_response(s.ChunkSerializer(page, many=True).data)


class SearchView(TenantAPIView):
    """Hybrid search (vector + full text, fused by reciprocal rank) in the given
    units: passages with scores and citations. Embedding the query is metered."""

    write_role = Role.VIEWER  # a search changes nothing of the account's knowledge

    @extend_schema(request=s.SearchSerializer, responses=s.RetrievalSerializer)
    def post(self, request):
        data = s.SearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = retrieve(account=self.account, user=request.user, **data.validated_data)
        body = {
            "query": result.query, "plans": result.plans, "reranked": result.reranked,
            "passages": [{**vars(p), "citation": p.citation} for p in result.passages],
        }  # fmt: skip
        return Response(s.RetrievalSerializer(body).data)
