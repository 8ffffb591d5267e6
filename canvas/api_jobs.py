"""REST API of the job queues: the account's jobs with their live status.

Two queues, one API shape: `jobs/` are the canvas studio's processing jobs
(analysis, scripts, voice, avatar, scraping, files), `builder-jobs/` the web
builder's (generation, component regeneration, publishing, analysis).
`GET jobs/` lists them newest first (filter `status`, `job_type`); `GET jobs/{id}/`
is the live view a page polls (status, progress, queue position, attempts,
credits held and charged, error). `POST jobs/{id}/cancel/` cancels a waiting or
running job (its credit hold is released; 409 `job_finished` when it already
ended); `POST jobs/{id}/retry/` queues a failed or cancelled job again with a new
hold (402 when the account cannot cover its estimate; 409 `job_not_retryable`
otherwise). Members and above cancel and retry; viewers only look.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy.drf import TenantViewSet

from .models import BuilderJob, BuilderJobStatus, BuilderJobType, JobStatus, JobType, ProcessingJob
from .services.queue import job_cancel, job_position, job_retry

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class JobSerializer(serializers.ModelSerializer):
    """One job. `position` (1 = next to run) is given on the detail view only, for a waiting job."""

    store = "canvas"
    cancellable: tuple[str, ...] = (JobStatus.QUEUED, JobStatus.PROCESSING)
    retryable: tuple[str, ...] = (JobStatus.FAILED, JobStatus.CANCELLED)
    position = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    can_retry = serializers.SerializerMethodField()

    class Meta:
        model = ProcessingJob
        fields = [
            "id", "job_type", "job_data", "priority", "status", "progress", "position", "attempts", "max_attempts",
            "scheduled_at", "started_at", "completed_at", "error_message", "estimated_credits", "actual_credits",
            "user", "created_at", "updated_at", "can_cancel", "can_retry",
        ]  # fmt: skip
        read_only_fields = fields

    def get_position(self, job) -> int | None:
        return job_position(job, store=self.store) if self.context.get("with_position") else None

    def get_can_cancel(self, job) -> bool:
        return job.status in self.cancellable

    def get_can_retry(self, job) -> bool:
        return job.status in self.retryable


class BuilderJobSerializer(JobSerializer):
    """One web-builder job (`payload` is what the job works on: a campaign, a page, a lead)."""

    store = "builder"
    cancellable = (BuilderJobStatus.PENDING, BuilderJobStatus.RETRYING, BuilderJobStatus.PROCESSING)
    retryable = (BuilderJobStatus.FAILED, BuilderJobStatus.CANCELLED)

    class Meta:
        model = BuilderJob
        fields = [
            "id", "job_type", "payload", "priority", "status", "progress", "position", "attempts", "max_attempts",
            "scheduled_at", "started_at", "completed_at", "error_message", "estimated_credits", "actual_credits",
            "user", "created_at", "updated_at", "can_cancel", "can_retry",
        ]  # fmt: skip
        read_only_fields = fields


class JobQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    job_type = serializers.ChoiceField(choices=JobType.choices, required=False)


class BuilderJobQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BuilderJobStatus.choices, required=False)
    job_type = serializers.ChoiceField(choices=BuilderJobType.choices, required=False)


class _JobViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    store = "canvas"
    query_serializer: type[serializers.Serializer] = JobQuerySerializer

    def scope_queryset(self, queryset):
        queryset = queryset.order_by("-created_at", "-id")
        if self.action == "list":
            query = self.query_serializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            queryset = queryset.filter(**{k: v for k, v in query.validated_data.items() if v})
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["with_position"] = self.action != "list"
        return context

    def _fresh(self, job) -> Response:
        job = type(job).objects.filter(account=self.account).get(pk=job.pk)
        return Response(self.get_serializer(job).data)

    def _cancel(self, request):
        return self._fresh(job_cancel(job=self.get_object(), actor=request.user, store=self.store))

    def _retry(self, request):
        return self._fresh(job_retry(job=self.get_object(), actor=request.user, store=self.store))


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class JobViewSet(_JobViewSet):
    """The account's processing jobs (analysis, scripts, voice, avatar, scraping, files), newest first."""

    queryset = ProcessingJob.objects.all()
    serializer_class = JobSerializer

    @extend_schema(parameters=[JobQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[_ID], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._cancel(request)

    @extend_schema(parameters=[_ID], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._retry(request)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class BuilderJobViewSet(_JobViewSet):
    """The account's web-builder jobs (generation, regeneration, publishing, analysis), newest first."""

    store = "builder"
    query_serializer = BuilderJobQuerySerializer
    queryset = BuilderJob.objects.all()
    serializer_class = BuilderJobSerializer

    @extend_schema(parameters=[BuilderJobQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[_ID], request=None, responses=BuilderJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._cancel(request)

    @extend_schema(parameters=[_ID], request=None, responses=BuilderJobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._retry(request)
