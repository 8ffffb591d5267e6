"""Seed 003 projects and their collaborators."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .common import choice_check


class Project(TenantModel):
    """Seed 003 `projects`. One board; `canvas_data` keeps the board's viewport
    and view settings only (`{"viewport": {"x", "y", "zoom"}, "settings": {...}}`):
    what is drawn on it lives in its own rows (folders, pieces, chat nodes,
    connections), one row per node."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    canvas_data = models.JSONField(default=dict, blank=True)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_accessed_at = models.DateTimeField(default=timezone.now)
    last_accessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-last_accessed_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(title=""), name="canvas_project_title")]
        indexes = [models.Index(fields=["account", "-last_accessed_at"], name="canvas_project_last_access")]

    def __str__(self) -> str:
        return self.title


class ProjectPermission(models.TextChoices):
    """Seed 003 `permission_level`, strongest first."""

    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Viewer")

    @property
    def rank(self) -> int:
        return {"viewer": 0, "editor": 1, "owner": 2}[self.value]

    def at_least(self, other: ProjectPermission | str) -> bool:
        return self.rank >= ProjectPermission(other).rank


class ProjectCollaborator(TenantModel):
    """Seed 003 `project_collaborators`. The project's creator is its first owner."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    permission_level = models.CharField(
        max_length=50, choices=ProjectPermission.choices, default=ProjectPermission.EDITOR
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="canvas_collaborator_once"),
            choice_check("permission_level", ProjectPermission, "canvas_collaborator_level"),
        ]
        indexes = [models.Index(fields=["account", "user"], name="canvas_collaborator_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission_level} of {self.project_id}"

    @property
    def permission(self) -> ProjectPermission:
        return ProjectPermission(self.permission_level)
