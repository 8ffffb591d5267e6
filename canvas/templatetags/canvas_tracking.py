"""`{% tracker_script campaign %}`: the campaign tracker's script tag (see
canvas/static/canvas/tracker.js). `absolute=True` for pages served elsewhere
(a WordPress export): the script and the collector then carry SITE_URL."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def tracker_script(campaign, absolute: bool = False) -> str:
    base = settings.SITE_URL.rstrip("/") if absolute else ""
    src, api = static("canvas/tracker.js"), reverse("tracking:collect")
    if absolute and not src.startswith(("http://", "https://")):
        src = base + src
    if settings.TRACKING_ALLOW_WEBDRIVER:
        return format_html(
            '<script defer src="{}" data-campaign="{}" data-api="{}" data-allow-webdriver></script>',
            src, campaign.pk, base + api,
        )  # fmt: skip
    tag = '<script defer src="{}" data-campaign="{}" data-api="{}"></script>'
    return format_html(tag, src, campaign.pk, base + api)
