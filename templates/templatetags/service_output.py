"""A service's output as HTML: JSON objects become headed sections and lists,
text keeps its paragraphs. Every value is escaped; nothing the model wrote is
ever trusted as markup."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MAX_DEPTH = 6


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _paragraphs(text: str) -> SafeString:
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return format_html_join(
        "", "<p>{}</p>", ((mark_safe("<br>".join(conditional_escape(line) for line in b.split("\n"))),) for b in blocks)
    )


def _scalar(value: Any) -> SafeString:
    if value is None:
        return mark_safe('<span class="muted">—</span>')
    if isinstance(value, bool):
        return format_html("{}", "✓" if value else "✗")
    if isinstance(value, str):
        return _paragraphs(value) if "\n" in value else format_html("{}", value)
    return format_html("{}", value)


def _render(value: Any, depth: int) -> SafeString:
    if depth > MAX_DEPTH:
        return format_html("<code>{}</code>", str(value)[:500])
    if isinstance(value, dict):
        rows = format_html_join(
            "", "<dt>{}</dt><dd>{}</dd>", ((_label(str(k)), _render(v, depth + 1)) for k, v in value.items())
        )
        return format_html('<dl class="output-dl">{}</dl>', rows)
    if isinstance(value, list):
        items = format_html_join("", "<li>{}</li>", ((_render(v, depth + 1),) for v in value))
        return format_html('<ul class="output-list">{}</ul>', items)
    return _scalar(value)


@register.filter
def render_output(data: Any, output_format: str = "json") -> SafeString:
    """`data` is result_data: the parsed JSON, or {"text": …} for text and markdown."""
    if data is None:
        return mark_safe("")
    if isinstance(data, dict) and set(data) == {"text"} and output_format != "json":
        return format_html('<div class="output-text">{}</div>', _paragraphs(str(data["text"])))
    if isinstance(data, dict) and "summary" in data:
        # The catalog's schemas lead with a summary: show it first, as the lead paragraph.
        rest = {k: v for k, v in data.items() if k != "summary"}
        return format_html('<p class="output-summary">{}</p>{}', data["summary"], _render(rest, 0))
    return _render(data, 0)
