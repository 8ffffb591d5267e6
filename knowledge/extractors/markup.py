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


def _segments(text: str) -> list[Segment]:
    text = _tidy(text)
    return [Segment(text=text)] if text else []


def extract_text(data: bytes) -> list[Segment]:
    return _segments(decode_text(data))


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|`{1,3})")


def extract_markdown(data: bytes) -> list[Segment]:
    # Keep the words, drop the markup that would only add noise to the vectors.
    text = decode_text(data)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    return _segments(text)


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

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag not in {"br", "li", "tr"} else "\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def extract_html(data: bytes) -> list[Segment]:
    parser = _TextOfHtml()
    parser.feed(decode_text(data))
    parser.close()
    return _segments("".join(parser.parts))
