"""REST API of the processing queue: the account's jobs with their live status.

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

from .models import JobStatus, JobType, ProcessingJob
from .services.queue import job_cancel, job_position, job_retry

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class JobSerializer(serializers.ModelSerializer):
    """One job. `position` (1 = next to run) is given on the detail view only, for a waiting job."""

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
        return job_position(job) if self.context.get("with_position") else None

    def get_can_cancel(self, job) -> bool:
        return job.status in (JobStatus.QUEUED, JobStatus.PROCESSING)

    def get_can_retry(self, job) -> bool:
        return job.status in (JobStatus.FAILED, JobStatus.CANCELLED)


class JobQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    job_type = serializers.ChoiceField(choices=JobType.choices, required=False)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class JobViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The account's processing jobs (analysis, scripts, voice, avatar, scraping, files), newest first."""

    queryset = ProcessingJob.objects.all()
    serializer_class = JobSerializer

    def scope_queryset(self, queryset):
        queryset = queryset.order_by("-created_at", "-id")
        if self.action == "list":
            query = JobQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            queryset = queryset.filter(**{k: v for k, v in query.validated_data.items() if v})
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["with_position"] = self.action != "list"
        return context

    @extend_schema(parameters=[JobQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, job) -> Response:
        job = ProcessingJob.objects.filter(account=self.account).get(pk=job.pk)
        return Response(self.get_serializer(job).data)

    @extend_schema(parameters=[_ID], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._fresh(job_cancel(job=self.get_object(), actor=request.user))

    @extend_schema(parameters=[_ID], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._fresh(job_retry(job=self.get_object(), actor=request.user))
