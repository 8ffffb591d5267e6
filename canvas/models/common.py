"""Choices and field helpers shared by the canvas sub-domains (seed 003)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    """Seed 003 creator platforms."""

    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"
    TWITTER = "twitter", "X (Twitter)"


class WorkStatus(models.TextChoices):
    """Seed 003 `processing_status`, `analysis_status`, `generation_status`, `creation_status`."""

    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


def coordinate(default: int | str = 0, **kwargs) -> models.DecimalField:
    """Seed 003 `DECIMAL(10,2)` positions and sizes on the board."""
    return models.DecimalField(max_digits=10, decimal_places=2, default=default, **kwargs)


def choice_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """The seed's `CHECK (x IN (...))`, kept in the database as well as in Django."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class BoardNode(models.Model):
    """What every row drawn on a project's board carries for collaborative editing.

    `version` is bumped by every accepted operation on the row; an operation names
    the version it was made against, and the server applies it only if that is
    still current (last write wins, by version; see ADR 0009). A deleted row is a
    tombstone (`deleted_at`) so that undo restores the same id and a late
    operation on it is told "deleted" rather than "not found".
    """

    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
