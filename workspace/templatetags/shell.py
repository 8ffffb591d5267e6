"""Template tags of the app shell: `{% icon %}`, the sidebar sections and service icons."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html

from workspace.navigation import sections_for

register = template.Library()

SPRITE = Path(settings.BASE_DIR) / "aiplatform" / "static" / "icons" / "sprite.svg"

# The catalog's services by code; a service without one gets the generic icon.
SERVICE_ICONS = {
    "name-analysis": "pen-line",
    "dream-interpretation": "moon",
    "story": "book-open",
    "chat": "message-circle",
    "face-reading": "smile",
    "saju": "sun-moon",
    "tarot": "wand-sparkles",
    "tojeong": "scroll-text",
}
DEFAULT_SERVICE_ICON = "sparkles"


@lru_cache(maxsize=1)
def icon_names() -> frozenset[str]:
    return frozenset(re.findall(r'<symbol id="([^"]+)"', SPRITE.read_text()))


@register.simple_tag
def icon(name: str, label: str = "", css: str = "") -> str:
    """An icon from the vendored Lucide sprite. Decorative unless `label` is given.
    An unknown name is a mistake in a template: it fails loudly under DEBUG (and a test
    checks every name the templates use)."""
    if name not in icon_names():
        if settings.DEBUG:
            raise template.TemplateSyntaxError(f"Unknown icon '{name}': add it to the sprite (see icons/README.md).")
        name = "circle-help"
    href = f"{static('icons/sprite.svg')}#{name}"
    classes = f"icon {css}".strip()
    if label:
        markup = '<svg class="{}" role="img" aria-label="{}"><use href="{}"></use></svg>'
        return format_html(markup, classes, label, href)
    return format_html('<svg class="{}" aria-hidden="true"><use href="{}"></use></svg>', classes, href)


@register.simple_tag
def service_icon(service, css: str = "") -> str:
    code = getattr(service, "service_type", "") or getattr(service, "code", "")
    return icon(SERVICE_ICONS.get(code, DEFAULT_SERVICE_ICON), css=css)


@register.simple_tag(takes_context=True)
def sidebar_sections(context) -> list:
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return []
    return sections_for(request)
