from django.db import models
from django.utils import timezone

from accounts.tenancy.models import TenantModel


class Customer(TenantModel):
    """Seed 004 `Customers`: a person writing to one channel (PSID, IGSID, X user id, LinkedIn member URN)."""

    channel = models.ForeignKey("channels_bot.ConnectedChannel", on_delete=models.CASCADE, related_name="customers")
    platform_customer_id = models.CharField(max_length=200)
    full_name = models.CharField(max_length=200, blank=True)
    profile_picture_url = models.URLField(max_length=1000, blank=True)
    # When the profile was last asked of the platform (not every message asks).
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "platform_customer_id"], name="channels_bot_customer_once"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.platform_customer_id
