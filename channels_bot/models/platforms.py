from django.db import models


class Platform(models.TextChoices):
    """Seed 004 `platform_type`."""

    FACEBOOK_PAGE = "FACEBOOK_PAGE", "Facebook Page"
    INSTAGRAM_BUSINESS = "INSTAGRAM_BUSINESS", "Instagram business account"
    LINKEDIN_PAGE = "LINKEDIN_PAGE", "LinkedIn Page"
    TWITTER_PROFILE = "TWITTER_PROFILE", "X profile"


class WebhookSource(models.TextChoices):
    """The webhook endpoint a delivery came in on (Facebook and Instagram share Meta's)."""

    META = "meta", "Meta (Facebook, Instagram)"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"
