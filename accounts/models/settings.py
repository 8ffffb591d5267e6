from django.db import models


class AppSetting(models.Model):
    """Platform-wide configuration and feature flags (seed 002 `app_settings`)."""

    key = models.CharField(max_length=100, primary_key=True)
    value = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
