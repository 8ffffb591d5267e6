"""Admin: projects with their collaborators and board rows (operators inspect;
collaborators are managed in the app by the project's owners)."""

from __future__ import annotations

from django.contrib import admin

from canvas.models import (
    CanvasConnection,
    CanvasFolder,
    ChatInterface,
    Project,
    ProjectCollaborator,
)


class CollaboratorInline(admin.TabularInline):
    model = ProjectCollaborator
    extra = 0
    fields = ["user", "permission_level", "added_by", "added_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "created_by", "is_archived", "last_accessed_at", "last_accessed_by"]
    list_filter = ["is_archived"]
    search_fields = ["title", "description", "account__name"]
    list_select_related = ["account", "created_by", "last_accessed_by"]
    readonly_fields = ["account", "created_by", "created_at", "updated_at", "last_accessed_at", "last_accessed_by"]
    fields = ["account", "title", "description", "is_archived", "canvas_data", *readonly_fields[1:]]
    inlines = [CollaboratorInline]

    def has_add_permission(self, request):
        return False  # a project needs an owner: members create them in the app


class _BoardRowAdmin(admin.ModelAdmin):
    list_select_related = ["project", "account"]
    readonly_fields = ["account", "project", "version", "deleted_at", "created_at", "updated_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]

    def has_add_permission(self, request):
        return False


@admin.register(CanvasFolder)
class FolderAdmin(_BoardRowAdmin):
    list_display = ["name", "project", "account", "is_collapsed", "version", "deleted_at"]
    search_fields = ["name", "project__title"]


@admin.register(ChatInterface)
class ChatInterfaceAdmin(_BoardRowAdmin):
    list_display = ["name", "project", "account", "ai_model_preference", "version", "deleted_at"]
    search_fields = ["name", "project__title"]


@admin.register(CanvasConnection)
class ConnectionAdmin(_BoardRowAdmin):
    list_display = ["__str__", "project", "account", "version", "deleted_at"]
    search_fields = ["project__title"]
