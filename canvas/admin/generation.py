"""Admin: voice and avatar models, and generated media with a player (the file is
streamed by an admin-only view, since generated files are never public)."""

from __future__ import annotations

from django.contrib import admin
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from canvas.models import AvatarModel, GeneratedContent, VoiceModel


@admin.register(VoiceModel)
class VoiceModelAdmin(admin.ModelAdmin):
    list_display = ["name", "version_number", "account", "provider", "training_status", "is_active", "quality_score"]
    list_filter = ["provider", "training_status", "is_active"]
    search_fields = ["name", "account__name", "elevenlabs_voice_id"]
    list_select_related = ["account"]
    readonly_fields = ["account", "user", "provider", "provider_voice_id", "elevenlabs_voice_id", "created_at"]


@admin.register(AvatarModel)
class AvatarModelAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "provider", "creation_status", "is_active", "quality_score"]
    list_filter = ["provider", "creation_status", "is_active"]
    search_fields = ["name", "account__name", "heygen_avatar_id"]
    list_select_related = ["account"]
    readonly_fields = ["account", "user", "provider", "heygen_avatar_id", "created_at"]


@admin.register(GeneratedContent)
class GeneratedContentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "account", "content_type", "generation_status", "duration_seconds", "generation_cost_credits",
        "storage_expires_at", "created_at",
    ]  # fmt: skip
    list_filter = ["content_type", "generation_status"]
    search_fields = ["account__name", "error_message"]
    list_select_related = ["account"]
    readonly_fields = [
        "player", "account", "project", "user", "script", "voice_model", "avatar_model", "content_type", "file_path",
        "file_size_bytes", "duration_seconds", "generation_status", "processing_started_at",
        "processing_completed_at", "generation_cost_credits", "error_message", "metadata", "storage_expires_at",
        "created_at",
    ]  # fmt: skip
    exclude = ["file_url"]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.file_view)
        return [path("<uuid:pk>/file/", view, name="canvas_generatedcontent_file"), *super().get_urls()]

    def file_view(self, request, pk):
        content = GeneratedContent.objects.filter(pk=pk).first()  # operators: the admin bypasses RLS visibly
        if content is None or not content.file_path or not default_storage.exists(content.file_path):
            raise Http404("No file (not made yet, or expired).")
        kind = "audio/mpeg" if content.content_type == "audio" else "video/mp4"
        return FileResponse(default_storage.open(content.file_path, "rb"), content_type=kind)

    @admin.display(description="Player")
    def player(self, obj):
        if not obj.pk or not obj.file_path:
            return "No file (not made yet, or expired)."
        url = reverse("admin:canvas_generatedcontent_file", args=[obj.pk])
        if obj.content_type == "audio":
            return format_html('<audio controls preload="none" src="{}"></audio>', url)
        return format_html('<video controls preload="metadata" width="270" src="{}"></video>', url)
