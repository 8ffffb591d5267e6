"""Admin: content pieces and their analyses, scripts and the processing queue
(retry and cancel actions go through the queue's services, so credits are held
and released as for a user). Voice and avatar models and generated media:
generation.py."""

from __future__ import annotations

from django.contrib import admin, messages

from accounts.tenancy.context import account_context
from aiplatform.errors import ServiceError
from canvas.models import ContentAnalysis, ContentPiece, GeneratedScript, ProcessingJob


@admin.register(ContentPiece)
class ContentPieceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "project", "platform", "content_type", "processing_status", "created_at"]
    list_filter = ["platform", "content_type", "processing_status", "is_remix"]
    search_fields = ["title", "source_url", "account__name"]
    list_select_related = ["account", "project"]
    readonly_fields = ["account", "project", "creator", "uploaded_by", "version", "deleted_at", "created_at"]


@admin.register(ContentAnalysis)
class ContentAnalysisAdmin(admin.ModelAdmin):
    list_display = ["content_piece", "account", "analysis_status", "ai_model_used", "analysis_cost_credits"]
    list_filter = ["analysis_status"]
    list_select_related = ["content_piece", "account"]
    readonly_fields = ["account", "content_piece", "analyzed_at", "created_at"]


@admin.register(GeneratedScript)
class GeneratedScriptAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "generation_status", "ai_model_used", "generation_cost_credits"]
    list_filter = ["generation_status"]
    list_select_related = ["account"]
    readonly_fields = ["account", "content_piece", "user", "generated_at", "created_at"]


@admin.register(ProcessingJob)
class ProcessingJobAdmin(admin.ModelAdmin):
    list_display = [
        "job_type", "account", "status", "progress", "priority", "attempts", "max_attempts", "scheduled_at",
        "error_message",
    ]  # fmt: skip
    list_filter = ["job_type", "status"]
    search_fields = ["account__name", "task_id"]
    list_select_related = ["account"]
    readonly_fields = [
        "account", "user", "job_type", "job_data", "status", "attempts", "started_at", "completed_at",
        "error_message", "estimated_credits", "actual_credits", "task_id", "progress", "created_at", "updated_at",
    ]  # fmt: skip

    actions = ["retry_jobs", "cancel_jobs"]

    def has_add_permission(self, request):
        return False

    def _each(self, request, queryset, service, verb: str) -> None:
        done, refused = 0, []
        for job in queryset.select_related("account"):
            try:
                with account_context(job.account_id):
                    service(job=job, actor=request.user)
            except ServiceError as exc:
                refused.append(f"{job.pk}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} job(s).", messages.SUCCESS)
        for line in refused[:10]:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Retry the selected jobs (failed or cancelled; holds credits again)")
    def retry_jobs(self, request, queryset):
        from canvas.services.queue import job_retry

        self._each(request, queryset, job_retry, "Queued again")

    @admin.action(description="Cancel the selected jobs (waiting or running; releases their credits)")
    def cancel_jobs(self, request, queryset):
        from canvas.services.queue import job_cancel

        self._each(request, queryset, job_cancel, "Cancelled")
