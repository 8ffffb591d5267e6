"""REST API of content pieces and their annotations.

`content-pieces/`: the live pieces on the projects you see plus the account's
inbox (scraped from followed creators, `inbox=true`); filter `project`,
`content_type`, `platform`, `creator`. POST adds one to a project by URL (JSON
`{project, source_url}`; instagram, tiktok, youtube, linkedin, twitter/x, else
400) or by upload (multipart `{project, file}`: video, audio, image or UTF-8
text; probed with ffmpeg, a corrupt or non-media file is a 400 and nothing is
stored; past the plan's storage a 409 `plan_limit_reached`). PATCH edits title,
description, transcript, remix flag; DELETE removes it from the board (the
board's tombstone, with its connections). `place/` puts an inbox piece on a
project. Editors and owners of the project change; viewers look.

`content-annotations/`: notes, highlights and bookmarks on pieces you see.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.tenancy.drf import TenantViewSet

from . import selectors as sel
from . import serializers_content as s
from .models import ContentAnnotation, ContentPiece, GeneratedScript
from .services import analysis as analysis_svc
from .services import content as svc
from .services import scripts as script_svc

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {k: v for k, v in query.validated_data.items() if v is not None and v != ""}


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), destroy=extend_schema(parameters=[_ID]))
class ContentPieceViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Content pieces: on your projects' boards, and the account's inbox."""

    queryset = ContentPiece.objects.all()
    serializer_class = s.ContentPieceSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset):
        pieces = svc.pieces_for_member(self.account, self.membership)
        if self.action == "list":
            query = _query(s.ContentPieceQuerySerializer, self.request)
            inbox = query.pop("inbox", None)
            if inbox is True:
                pieces = pieces.filter(project__isnull=True)
            elif inbox is False:
                pieces = pieces.filter(project__isnull=False)
            pieces = pieces.filter(**query)
        return pieces

    def get_object(self):
        return svc.piece_get(self.account, self.membership, self.kwargs["pk"])

    @extend_schema(parameters=[s.ContentPieceQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, piece, code=status.HTTP_200_OK) -> Response:
        return Response(s.ContentPieceSerializer(ContentPiece.objects.get(pk=piece.pk)).data, status=code)

    @extend_schema(
        request={
            "application/json": s.ContentPieceCreateSerializer,
            "multipart/form-data": s.ContentPieceCreateSerializer,
        },
        responses={201: s.ContentPieceSerializer},
    )
    def create(self, request):
        data = s.ContentPieceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project = sel.project_get_for_member(self.account, self.membership, values["project"])
        common = {
            "project": project, "actor": self.membership, "x": values.get("x"), "y": values.get("y"),
            "title": values.get("title", ""), "description": values.get("description", ""),
            "content_type": values.get("content_type"),
        }  # fmt: skip
        if values.get("file") is not None:
            piece = svc.piece_upload(file=values["file"], **common)
        else:
            piece = svc.piece_add_url(url=values["source_url"], **common)
        return self._fresh(piece, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], request=s.ContentPieceUpdateSerializer, responses=s.ContentPieceSerializer)
    def partial_update(self, request, pk=None):
        piece = self.get_object()
        data = s.ContentPieceUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._fresh(svc.piece_update(piece=piece, actor=self.membership, **data.validated_data))

    def destroy(self, request, pk=None):
        from .services.board import board_apply

        piece = self.get_object()
        if piece.project is None:
            from accounts.tenancy.context import account_context

            with account_context(piece.account_id):
                svc.piece_delete_file(piece)
                piece.delete()
            return Response(status=status.HTTP_204_NO_CONTENT)
        op = {"op": "delete", "kind": "content_piece", "id": str(piece.pk), "version": piece.version}
        board_apply(project=piece.project, actor=self.membership, op=op)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_ID], request=s.ContentPlaceSerializer, responses=s.ContentPieceSerializer)
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        """Put a piece of the inbox on a project's board."""
        piece = self.get_object()
        data = s.ContentPlaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = sel.project_get_for_member(self.account, self.membership, data.validated_data["project"])
        placed = svc.piece_place(piece=piece, project=project, actor=self.membership,
                                 x=data.validated_data.get("x"), y=data.validated_data.get("y"))  # fmt: skip
        return self._fresh(placed)

    def _started(self, job) -> Response:
        body = {"job": job.pk, "status": job.status, "estimated_credits": job.estimated_credits}
        return Response(s.JobStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[_ID], request=None, responses={202: s.JobStartedSerializer, 200: s.AnalysisSerializer(many=True)}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def analyses(self, request, pk=None):
        """GET: the piece's analyses, newest first. POST: analyse it again (a job holding
        CANVAS_ANALYSIS_CREDITS; 402 when the account cannot cover them; poll the job)."""
        piece = self.get_object()
        if request.method == "GET":
            return Response(s.AnalysisSerializer(analysis_svc.analyses_for_piece(piece), many=True).data)
        _, job = analysis_svc.analysis_start(piece=piece, actor=self.membership)
        return self._started(job)

    @extend_schema(parameters=[_ID], request=s.ScriptStartSerializer, responses={202: s.JobStartedSerializer})
    @action(detail=True, methods=["post"])
    def scripts(self, request, pk=None):
        """Write a script from the piece in your brand voice (a job holding CANVAS_SCRIPT_CREDITS)."""
        piece = self.get_object()
        data = s.ScriptStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, job = script_svc.script_start(piece=piece, actor=self.membership,
                                         instructions=data.validated_data.get("instructions", ""))  # fmt: skip
        return self._started(job)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class ScriptViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Generated scripts of the pieces you see, newest first (filter `content_piece`); PATCH edits one."""

    queryset = GeneratedScript.objects.all()
    serializer_class = s.ScriptSerializer

    def scope_queryset(self, queryset):
        visible = svc.pieces_for_member(self.account, self.membership).values("pk")
        scripts = queryset.filter(content_piece__in=visible).select_related("content_piece__project")
        if self.action == "list":
            scripts = scripts.filter(**_query(s.AnnotationQuerySerializer, self.request))
        return scripts.order_by("-created_at", "-id")

    @extend_schema(parameters=[s.AnnotationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[_ID], request=s.ScriptUpdateSerializer, responses=s.ScriptSerializer)
    def partial_update(self, request, pk=None):
        script = self.get_object()
        data = s.ScriptUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(s.ScriptSerializer(script_svc.script_update(script=script, actor=self.membership,
                                                                    **data.validated_data)).data)  # fmt: skip


@extend_schema_view(
    retrieve=extend_schema(parameters=[_ID]), destroy=extend_schema(parameters=[_ID]),
)  # fmt: skip
class AnnotationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Notes, highlights and bookmarks on the pieces you see (filter `content_piece`)."""

    queryset = ContentAnnotation.objects.all()
    serializer_class = s.AnnotationSerializer

    def scope_queryset(self, queryset):
        visible = svc.pieces_for_member(self.account, self.membership).values("pk")
        annotations = queryset.filter(content_piece__in=visible).select_related("content_piece__project")
        if self.action == "list":
            annotations = annotations.filter(**_query(s.AnnotationQuerySerializer, self.request))
        return annotations.order_by("created_at", "id")

    @extend_schema(parameters=[s.AnnotationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.AnnotationWriteSerializer, responses={201: s.AnnotationSerializer})
    def create(self, request):
        data = s.AnnotationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        piece = svc.piece_get(self.account, self.membership, values["content_piece"])
        annotation = svc.annotation_add(
            piece=piece, actor=self.membership, text=values["annotation_text"],
            annotation_type=values.get("annotation_type"), x=values.get("position_x"), y=values.get("position_y"),
        )  # fmt: skip
        return Response(s.AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], request=s.AnnotationUpdateSerializer, responses=s.AnnotationSerializer)
    def partial_update(self, request, pk=None):
        annotation = self.get_object()
        data = s.AnnotationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        svc.annotation_update(annotation=annotation, actor=self.membership, **data.validated_data)
        return Response(s.AnnotationSerializer(annotation).data)

    def destroy(self, request, pk=None):
        svc.annotation_delete(annotation=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
