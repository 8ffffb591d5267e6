"""Plain text, Markdown and HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from . import Segment, decode_text

_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\f\v\r]+")


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_HEADING_LEVELS = 3  # h1-h3 (or #, ##, ###) make the heading path; deeper ones are part of the text
_MAX_HEADING_CHARS = 120
_PERMALINK = "\u00b6"  # Sphinx's "¶" after every heading


def _label(text: str) -> str:
    return _SPACES.sub(" ", text.replace(_PERMALINK, " ").replace("\n", " ")).strip()[:_MAX_HEADING_CHARS]


def _segments(text: str, headings: list[tuple[int, str]] = (), title: str = "") -> list[Segment]:
    """One segment of the tidied text; `headings` ((level, label) in document order)
    become the segment's heading paths, found in the text in order, and `title`
    (an HTML <title>, used when the page has no top-level heading) heads the path."""
    text = _tidy(text)
    if not text:
        return []
    paths: list[tuple[int, str]] = []
    stack: list[str] = []
    title = _label(title)
    if title and not any(level == 1 for level, _ in headings):
        stack = [title]
        paths.append((0, title))
    at = 0
    for level, label in headings:
        label = _label(label)
        found = text.find(label, at) if label else -1
        if found < 0:
            continue
        at = found + len(label)
        stack = [*stack[: level - 1], label]  # a title without an h1 stands where the h1 would
        paths.append((found, " \u203a ".join(stack)))
    return [Segment(text=text, headings=tuple(paths))]


def extract_text(data: bytes) -> list[Segment]:
    return _segments(decode_text(data))


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|`{1,3})")


_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~).*?^\s{0,3}\1", re.MULTILINE | re.DOTALL)
_MD_HEADING_LINE = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def extract_markdown(data: bytes) -> list[Segment]:
    # Keep the words, drop the markup that would only add noise to the vectors.
    text = decode_text(data)
    text = _MD_LINK.sub(r"\1", text)
    fences = [m.span() for m in _MD_FENCE.finditer(text)]  # a "# comment" in a code block is no heading
    headings = [(len(m.group(1)), _MD_EMPHASIS.sub("", m.group(2))) for m in _MD_HEADING_LINE.finditer(text)
                if len(m.group(1)) <= _HEADING_LEVELS
                and not any(start <= m.start() < end for start, end in fences)]  # fmt: skip
    text = _MD_EMPHASIS.sub("", text)
    text = _MD_HEADING.sub("", text)
    return _segments(text, headings)


class _TextOfHtml(HTMLParser):
    SKIP = {"script", "style", "head", "noscript", "template", "svg"}
    BLOCKS = {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "dt", "dd", "hr", "main", "nav", "title",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title = ""
        self.in_title = False
        self.headings: list[tuple[int, str]] = []  # (level, label)
        self.heading: list[str] | None = None  # the words of the heading being read
        self.heading_level = 0

    def handle_starttag(self, tag, attrs):
        if tag == "title" and not self.title:  # the page's, not an <svg>'s <title>
            self.in_title = True
        if tag in {"h1", "h2", "h3"} and not self.skipping:
            self.heading, self.heading_level = [], int(tag[1])
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag not in {"br", "li", "tr"} else "\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == f"h{self.heading_level}" and self.heading is not None:
            self.headings.append((self.heading_level, "".join(self.heading)))
            self.heading = None
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if not self.skipping:
            self.parts.append(data)
            if self.heading is not None:
                self.heading.append(data)


def extract_html(data: bytes) -> list[Segment]:
    parser = _TextOfHtml()
    parser.feed(decode_text(data))
    parser.close()
    return _segments("".join(parser.parts), parser.headings, parser.title)
