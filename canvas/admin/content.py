"""Admin: content pieces and their analyses, scripts and the processing queue
(retry and cancel actions go through the queue's services, so credits are held
and released as for a user). Voice and avatar models and generated media:
generation.py."""

from __future__ import annotations

from django.contrib import admin

from canvas.models import ContentAnalysis, ContentPiece, GeneratedScript, ProcessingJob

from .queue import JobAdmin


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
class ProcessingJobAdmin(JobAdmin):
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
