"""`{% js_strings "page-strings" key=_("English text") ... %}`: a page's translated UI strings
for its JavaScript, as a JSON <script> element (json_script, so nothing can break out of it).

The `_("...")` arguments are extracted by `makemessages` like any template string and
resolved in the request's language; the page's script reads them by key and falls back to
its own English text when a key is missing (see e.g. chats/static/chats/chat.js `t()`).
"""

from __future__ import annotations

from django import template
from django.utils.html import json_script

register = template.Library()


@register.simple_tag
def js_strings(element_id: str, **strings) -> str:
    return json_script({key: str(value) for key, value in strings.items()}, element_id)
