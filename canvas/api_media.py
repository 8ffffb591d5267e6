"""REST API of voice models, avatar models and generated media.

* `voice-models/`: the account's voices. POST multipart `name`, `samples`
  (1-5 audio files), `description` clones one (a known name makes its next
  version); 409 `plan_limit_reached` past the plan's `voice_model_limit`;
  PATCH `is_active`; POST `{id}/train/` trains a failed voice again.
* `avatar-models/`: POST multipart `name` and `photos` (1-5 JPEG/PNG/WebP) or
  `sample_video`; PATCH `is_active`.
* `generated-media/`: the clips, newest first (filter `content_type`,
  `project`). POST JSON `{content_type: audio|video, voice_model, avatar_model
  (video), text, project?, script?}` queues a job (402 when the credits it
  holds are short) and answers 202 with the clip and its job; GET `{id}/` shows
  the job's live status and queue position; GET `{id}/file/` streams the file
  to members of the account.
* `media/heygen-webhook/`: HeyGen's `avatar_video.success|fail` deliveries
  (no auth: they only wake the job polling that video).

Members create and change; viewers look and listen. A foreign id answers 404.
"""

from __future__ import annotations

import json

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy.context import account_context
from accounts.tenancy.drf import TenantViewSet
from aiplatform.errors import NotFound

from .models import AvatarModel, GeneratedContent, GeneratedScript, ProcessingJob, Project, VoiceModel
from .services import queue
from .services.avatar import avatar_model_create, avatar_model_delete, avatar_model_update
from .services.media import avatar_video_generate, heygen_webhook_received, speech_generate
from .services.voice import Upload, voice_model_create, voice_model_delete, voice_model_train, voice_model_update

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
_DETAIL = {"retrieve": extend_schema(parameters=[_ID]), "destroy": extend_schema(parameters=[_ID])}


class VoiceModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = VoiceModel
        fields = [
            "id", "name", "version_number", "provider", "training_status", "is_active", "quality_score",
            "training_duration_seconds", "elevenlabs_voice_id", "sample_audio_url", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class VoiceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    samples = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=5)


class ActiveSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()


class AvatarModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = AvatarModel
        fields = [
            "id", "name", "provider", "creation_status", "is_active", "quality_score", "heygen_avatar_id",
            "training_photos_urls", "sample_video_url", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AvatarCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=5)
    sample_video = serializers.FileField(required=False, allow_null=True, default=None)


class GeneratedSerializer(serializers.ModelSerializer):
    voice_model_name = serializers.CharField(source="voice_model.name", read_only=True, default=None)
    avatar_model_name = serializers.CharField(source="avatar_model.name", read_only=True, default=None)
    text = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedContent
        fields = [
            "id", "content_type", "generation_status", "text", "voice_model", "voice_model_name", "avatar_model",
            "avatar_model_name", "project", "script", "file", "file_size_bytes", "duration_seconds",
            "generation_cost_credits", "error_message", "storage_expires_at", "processing_started_at",
            "processing_completed_at", "job", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_text(self, obj) -> str:
        return obj.metadata.get("text", "")

    def get_file(self, obj) -> str | None:
        request = self.context.get("request")
        if not obj.file_path or request is None:
            return None
        return request.build_absolute_uri(f"/api/v1/generated-media/{obj.pk}/file/")

    def get_job(self, obj) -> dict | None:
        jobs = self.context.get("jobs") or {}
        job = jobs.get(obj.metadata.get("job_id"))
        if job is None:
            return None
        if self.context.get("live"):
            return queue.job_status(job)
        return {"id": str(job.pk), "status": job.status, "progress": job.progress, "attempts": job.attempts,
                "max_attempts": job.max_attempts, "error_message": job.error_message}  # fmt: skip


class MediaGenerateSerializer(serializers.Serializer):
    content_type = serializers.ChoiceField(choices=["audio", "video"])
    voice_model = serializers.UUIDField()
    avatar_model = serializers.UUIDField(required=False, allow_null=True, default=None)
    text = serializers.CharField(max_length=20_000, trim_whitespace=True)
    project = serializers.UUIDField(required=False, allow_null=True, default=None)
    script = serializers.UUIDField(required=False, allow_null=True, default=None)
    priority = serializers.IntegerField(required=False, default=0, min_value=-10, max_value=10)

    def validate(self, attrs):
        if attrs["content_type"] == "video" and not attrs.get("avatar_model"):
            raise serializers.ValidationError({"avatar_model": ["A video needs an avatar model."]})
        return attrs


class _MediaViewSet(TenantViewSet):
    def _uploads(self, files) -> list[Upload]:
        return [Upload.of(f) for f in files]


@extend_schema_view(**_DETAIL, partial_update=extend_schema(parameters=[_ID]))
class VoiceModelViewSet(_MediaViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Your voice models (newest version of each name first). See the module doc."""

    queryset = VoiceModel.objects.all()
    serializer_class = VoiceModelSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def scope_queryset(self, queryset):
        return queryset.order_by("name", "-version_number")

    @extend_schema(request={"multipart/form-data": VoiceCreateSerializer}, responses={201: VoiceModelSerializer})
    def create(self, request):
        data = VoiceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voice = voice_model_create(
            account=self.account, actor=self.membership, name=data.validated_data["name"],
            samples=self._uploads(data.validated_data["samples"]), description=data.validated_data["description"],
        )  # fmt: skip
        return Response(VoiceModelSerializer(voice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ActiveSerializer, responses=VoiceModelSerializer)
    def partial_update(self, request, pk=None):
        voice = self.get_object()  # a foreign id is a 404 before the body is looked at
        data = ActiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voice = voice_model_update(voice=voice, actor=self.membership, **data.validated_data)
        return Response(VoiceModelSerializer(voice).data)

    def destroy(self, request, pk=None):
        voice_model_delete(voice=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_ID], request=None, responses=VoiceModelSerializer)
    @action(detail=True, methods=["post"])
    def train(self, request, pk=None):
        """Train the voice again from its stored samples (after a failure)."""
        voice = voice_model_train(voice=self.get_object(), actor=self.membership)
        return Response(VoiceModelSerializer(voice).data)


@extend_schema_view(**_DETAIL, partial_update=extend_schema(parameters=[_ID]))
class AvatarModelViewSet(_MediaViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Your avatar models. See the module doc."""

    queryset = AvatarModel.objects.all()
    serializer_class = AvatarModelSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request={"multipart/form-data": AvatarCreateSerializer}, responses={201: AvatarModelSerializer})
    def create(self, request):
        data = AvatarCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        video = data.validated_data["sample_video"]
        avatar = avatar_model_create(
            account=self.account, actor=self.membership, name=data.validated_data["name"],
            photos=self._uploads(data.validated_data["photos"]), sample_video=Upload.of(video) if video else None,
        )  # fmt: skip
        return Response(AvatarModelSerializer(avatar).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ActiveSerializer, responses=AvatarModelSerializer)
    def partial_update(self, request, pk=None):
        avatar = self.get_object()
        data = ActiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        avatar = avatar_model_update(avatar=avatar, actor=self.membership, **data.validated_data)
        return Response(AvatarModelSerializer(avatar).data)

    def destroy(self, request, pk=None):
        avatar_model_delete(avatar=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


def jobs_of(account, contents) -> dict:
    ids = [c.metadata.get("job_id") for c in contents if c.metadata.get("job_id")]
    with account_context(account.id):
        return {str(j.pk): j for j in ProcessingJob.objects.filter(account=account, pk__in=ids)}


@extend_schema_view(**_DETAIL)
class GeneratedMediaViewSet(_MediaViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Generated speech and avatar videos. See the module doc."""

    queryset = GeneratedContent.objects.all()
    serializer_class = GeneratedSerializer

    def scope_queryset(self, queryset):
        queryset = queryset.select_related("voice_model", "avatar_model").order_by("-created_at", "id")
        if self.action == "list":
            kind = self.request.query_params.get("content_type")
            if kind in ("audio", "video"):
                queryset = queryset.filter(content_type=kind)
            project = self.request.query_params.get("project")
            if project:
                try:
                    queryset = queryset.filter(project_id=serializers.UUIDField().to_internal_value(project))
                except serializers.ValidationError:
                    queryset = queryset.none()
        return queryset

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = page if page is not None else list(self.get_queryset())
        data = GeneratedSerializer(rows, many=True, context={"request": request, "jobs": jobs_of(self.account, rows)})
        return self.get_paginated_response(data.data) if page is not None else Response(data.data)

    def retrieve(self, request, pk=None):
        content = self.get_object()
        context = {"request": request, "jobs": jobs_of(self.account, [content]), "live": True}
        return Response(GeneratedSerializer(content, context=context).data)

    def _get(self, model, pk, what):
        if pk is None:
            return None
        row = model.objects.filter(account=self.account, pk=pk).first()
        if row is None:
            raise NotFound(gettext("There is no such %(what)s in this account.") % {"what": what})
        return row

    @extend_schema(request=MediaGenerateSerializer, responses={202: GeneratedSerializer})
    def create(self, request):
        data = MediaGenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        voice = self._get(VoiceModel, v["voice_model"], "voice model")
        project = self._get(Project, v["project"], "project")
        script = self._get(GeneratedScript, v["script"], "script")
        common = {"account": self.account, "actor": self.membership, "voice": voice, "text": v["text"],
                  "project": project, "script": script, "priority": v["priority"]}  # fmt: skip
        if v["content_type"] == "audio":
            content = speech_generate(**common)
        else:
            content = avatar_video_generate(avatar=self._get(AvatarModel, v["avatar_model"], "avatar model"), **common)
        context = {"request": request, "jobs": jobs_of(self.account, [content]), "live": True}
        return Response(GeneratedSerializer(content, context=context).data, status=status.HTTP_202_ACCEPTED)

    def destroy(self, request, pk=None):
        content = self.get_object()
        path = content.file_path
        with account_context(self.account.id):
            content.delete()
        if path:
            default_storage.delete(path)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_ID], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The MP3 or MP4 (404 when not made yet or expired)."""
        content = self.get_object()
        if not content.file_path or not default_storage.exists(content.file_path):
            raise NotFound(gettext("This clip has no file (not made yet, or expired)."))
        kind = "audio/mpeg" if content.content_type == "audio" else "video/mp4"
        response = FileResponse(default_storage.open(content.file_path, "rb"), content_type=kind)
        response["Content-Disposition"] = f'inline; filename="{content.pk}.{"mp3" if kind == "audio/mpeg" else "mp4"}"'
        response["Cache-Control"] = "private, max-age=3600"
        return response


class HeyGenWebhookView(APIView):
    """HeyGen's avatar_video.success / avatar_video.fail deliveries."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        try:
            payload = request.data if isinstance(request.data, dict) else json.loads(request.body or b"{}")
        except ValueError:
            payload = {}
        return Response({"received": heygen_webhook_received(payload)})
