from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    """Seed 004 `platform_type`."""

    FACEBOOK_PAGE = "FACEBOOK_PAGE", "Facebook Page"
    INSTAGRAM_BUSINESS = "INSTAGRAM_BUSINESS", _("Instagram business account")
    LINKEDIN_PAGE = "LINKEDIN_PAGE", "LinkedIn Page"
    TWITTER_PROFILE = "TWITTER_PROFILE", _("X profile")


class WebhookSource(models.TextChoices):
    """The webhook endpoint a delivery came in on (Facebook and Instagram share Meta's)."""

    META = "meta", "Meta (Facebook, Instagram)"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"
