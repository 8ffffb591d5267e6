"""Seed 003 creator directory: categories and creators are platform rows (no
account, no row-level security; operators manage them), follows are the
account's."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.tenancy.models import TenantModel

from .common import Platform, choice_check


class CreatorCategory(models.Model):
    """Seed 003 `creator_categories` (the seed's ten are created by a data migration)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sort_order = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "creator categories"

    def __str__(self) -> str:
        return self.name


class Creator(models.Model):
    """Seed 003 `creators`: one public profile on one platform, shared by every account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.CharField(max_length=50, choices=Platform.choices)
    username = models.CharField(max_length=255)
    profile_url = models.URLField(max_length=2000)
    display_name = models.CharField(max_length=255, blank=True)
    follower_count = models.PositiveIntegerField(null=True, blank=True)
    category = models.ForeignKey(
        CreatorCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="creators"
    )
    is_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    last_scraped_at = models.DateTimeField(null=True, blank=True)
    scrape_frequency_hours = models.PositiveIntegerField(default=1)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "username"]
        constraints = [
            # Handles are case-insensitive on every supported platform: @Foo is @foo.
            models.UniqueConstraint(Lower("username"), "platform", name="canvas_creator_handle"),
            choice_check("platform", Platform, "canvas_creator_platform"),
            models.CheckConstraint(condition=models.Q(scrape_frequency_hours__gte=1), name="canvas_creator_scrape"),
            models.CheckConstraint(condition=~models.Q(username=""), name="canvas_creator_username"),
        ]
        indexes = [
            models.Index(fields=["platform", "username"], name="canvas_creator_platform_user"),
            models.Index(fields=["category"], name="canvas_creator_category"),
            models.Index(fields=["-follower_count", "id"], name="canvas_creator_followers"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} @{self.username}"


class AccountFollowedCreator(TenantModel):
    """Seed 003 `account_followed_creators`. Unfollowing clears `is_active` (the
    row and who first followed stay); only active follows count toward the
    plan's `creator_limit`."""

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="follows")
    followed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    followed_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-followed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "creator"], name="canvas_follow_once")]
        indexes = [models.Index(fields=["account", "is_active"], name="canvas_follow_active")]

    def __str__(self) -> str:
        return f"{self.account_id} follows {self.creator_id}"
