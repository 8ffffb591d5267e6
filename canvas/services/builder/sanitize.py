"""HTML and CSS of components and pages, made safe to store, edit and host.

Everything a model generates, a user pastes, or the editor saves passes here
before it is stored: `html_clean` is Ammonia (nh3, an allow-list parser, not a
regex), so scripts, event handlers, `javascript:` URLs, iframes, objects,
embeds, `<style>` and `<base>` elements never reach the database. The one
script a hosted page runs is the platform tracker, added by the hosting
template outside the stored HTML.

`css_clean` keeps a style sheet from leaving its `<style>` element (no `<`) and
from loading or running anything (no `@import`, `expression()`, `behavior`,
`-moz-binding`, or `url()` other than http(s), relative, or image data URLs).
"""

from __future__ import annotations

import re

import nh3

TAGS = frozenset(
    {
        "a", "abbr", "article", "aside", "b", "blockquote", "br", "button", "caption", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "fieldset", "figcaption", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "input", "ins", "label", "legend",
        "li", "main", "mark", "nav", "ol", "option", "optgroup", "p", "picture", "pre", "q", "s", "section",
        "select", "small", "source", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
        "textarea", "tfoot", "th", "thead", "time", "tr", "u", "ul", "video",
    }
)  # fmt: skip
GENERIC_ATTRIBUTES = frozenset({"class", "id", "style", "title", "lang", "dir", "role", "aria-label", "aria-hidden"})
ATTRIBUTES = {
    "a": {"href", "target"},
    "img": {"src", "alt", "width", "height", "loading"},
    "source": {"src", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height", "muted", "loop", "playsinline"},
    "form": {"action", "method", "name"},
    "input": {"type", "name", "value", "placeholder", "required", "checked", "min", "max", "step", "maxlength",
              "pattern", "autocomplete"},
    "button": {"type", "name", "value"},
    "label": {"for"},
    "select": {"name", "required", "multiple"},
    "option": {"value", "selected"},
    "textarea": {"name", "placeholder", "rows", "cols", "required", "maxlength"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start"},
}  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
STYLE_PROPERTIES = frozenset(
    {
        "align-items", "background", "background-color", "background-image", "background-position",
        "background-repeat", "background-size", "border", "border-bottom", "border-color", "border-left",
        "border-radius", "border-right", "border-style", "border-top", "border-width", "box-shadow", "color",
        "column-gap", "display", "flex", "flex-direction", "flex-wrap", "font", "font-family", "font-size",
        "font-style", "font-weight", "gap", "grid-template-columns", "height", "justify-content", "left",
        "letter-spacing", "line-height", "list-style", "margin", "margin-bottom", "margin-left", "margin-right",
        "margin-top", "max-height", "max-width", "min-height", "min-width", "opacity", "overflow", "padding",
        "padding-bottom", "padding-left", "padding-right", "padding-top", "position", "right", "row-gap",
        "text-align", "text-decoration", "text-transform", "top", "bottom", "vertical-align", "width",
        "z-index",
    }
)  # fmt: skip

HTML_MAX = 500_000
CSS_MAX = 200_000


def html_clean(html: str) -> str:
    """Sanitised HTML (allow-listed tags and attributes, http(s)/mailto/tel URLs,
    `data-*` attributes kept for the tracker, links get rel=noopener)."""
    if not html:
        return ""
    return nh3.clean(
        html[:HTML_MAX],
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()} | {"*": set(GENERIC_ATTRIBUTES)},
        generic_attribute_prefixes={"data-"},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        filter_style_properties=set(STYLE_PROPERTIES),
        strip_comments=True,
    )


_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_IMPORT = re.compile(r"@import[^;]*;?", re.I)
_DANGEROUS = re.compile(r"expression\s*\(|behavior\s*:|-moz-binding|javascript:|vbscript:", re.I)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_SAFE_URL = re.compile(r"^(https?://|/|\./|\.\./|#|data:image/(png|gif|jpe?g|webp);)", re.I)


def _url(match: re.Match) -> str:
    target = match.group(2).strip()
    if "\\" in target or not (_SAFE_URL.match(target) or re.match(r"^[\w\-./]+$", target)):
        return "none"
    return f'url("{target}")'


def css_clean(css: str) -> str:
    """A style sheet that cannot break out of `<style>` or load/run code."""
    if not css:
        return ""
    text = css[:CSS_MAX].replace("<", "").replace("\x00", "")
    text = _COMMENT.sub("", text)
    text = _IMPORT.sub("", text)
    text = _DANGEROUS.sub("", text)
    return _URL.sub(_url, text).strip()
