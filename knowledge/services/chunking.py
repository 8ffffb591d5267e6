"""Splitting segments into chunks on sentence boundaries, with overlap.

Sizes are in tokens as counted by `count_tokens` (words and punctuation marks),
which tracks the word pieces of BERT-style tokenizers closely for prose; the
default size stays under all-MiniLM-L6-v2's 256-piece input limit. A chunk never
crosses a page or sheet, so its citation is exact; CSV/XLSX rows are packed
whole, several to a chunk, and the chunk cites its first and last row.

A chunk of a text with headings (HTML h1-h3, Markdown #-###) starts with the
heading path in force where it starts ("Page title › Section", one line), so its
vector and its full-text entry know what the passage is about even when its own
words do not say it (docs/adr/0003). The path counts towards the chunk's size;
`char_offset` is still where the chunk's own text starts in its segment.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from knowledge.extractors import Segment

_TOKEN = re.compile(r"\w+|[^\w\s]")
# A boundary: whitespace after sentence-ending punctuation (and closing quotes), or a line break.
_BOUNDARY = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|\s*\n\s*")


@dataclass(frozen=True)
class ChunkDraft:
    position: int
    text: str
    page: int | None
    row: int | None
    row_end: int | None
    section: str
    char_offset: int
    token_count: int


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    tokens: int


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _sentences(text: str) -> list[_Span]:
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if match.start() > start:
            piece = text[start : match.start()]
            spans.append(_Span(start, match.start(), count_tokens(piece)))
        start = match.end()
    if start < len(text) and text[start:].strip():
        spans.append(_Span(start, len(text), count_tokens(text[start:])))
    return [s for s in spans if s.tokens]


def _windows(text: str, span: _Span, size: int, overlap: int) -> list[_Span]:
    """A sentence longer than a chunk: fixed windows of tokens, overlapping."""
    tokens = [m.span() for m in _TOKEN.finditer(text, span.start, span.end)]
    step = max(1, size - overlap)
    out = []
    for at in range(0, len(tokens), step):
        window = tokens[at : at + size]
        out.append(_Span(window[0][0], window[-1][1], len(window)))
        if at + size >= len(tokens):
            break
    return out


def split_text(text: str, *, size: int, overlap: int) -> list[_Span]:
    """Spans of `text`, each at most `size` tokens, sentences kept whole where they fit;
    consecutive spans share up to `overlap` tokens of whole sentences."""
    units: list[_Span] = []
    for sentence in _sentences(text):
        units.extend(_windows(text, sentence, size, overlap) if sentence.tokens > size else [sentence])
    chunks: list[_Span] = []
    current: list[_Span] = []
    for unit in units:
        if current and sum(u.tokens for u in current) + unit.tokens > size:
            chunks.append(_Span(current[0].start, current[-1].end, sum(u.tokens for u in current)))
            # Carry the last sentences into the next chunk, up to `overlap` tokens and
            # always leaving room for the sentence that did not fit.
            carried: list[_Span] = []
            for previous in reversed(current):
                total = sum(u.tokens for u in carried) + previous.tokens
                if total > overlap or total + unit.tokens > size:
                    break
                carried.insert(0, previous)
            current = carried
        current.append(unit)
    if current:
        chunks.append(_Span(current[0].start, current[-1].end, sum(u.tokens for u in current)))
    return chunks


def _pack_rows(rows: list[Segment], size: int) -> list[list[Segment]]:
    groups: list[list[Segment]] = []
    tokens = 0
    for row in rows:
        n = count_tokens(row.text)
        same_sheet = groups and groups[-1][-1].page == row.page
        if same_sheet and tokens + n <= size:
            groups[-1].append(row)
            tokens += n
        else:
            groups.append([row])
            tokens = n
    return groups


def chunk_segments(segments: list[Segment], *, size: int, overlap: int) -> list[ChunkDraft]:
    """Every segment's chunks, numbered in document order."""
    if size < 8 or not 0 <= overlap < size:
        raise ValueError("chunk size must be at least 8 tokens and the overlap smaller than it")
    drafts: list[ChunkDraft] = []

    def add(text: str, segment: Segment, offset: int, tokens: int, row_end: int | None) -> None:
        drafts.append(
            ChunkDraft(
                position=len(drafts), text=text, page=segment.page, row=segment.row, row_end=row_end,
                section=segment.section, char_offset=offset, token_count=tokens,
            )
        )  # fmt: skip

    rows = [s for s in segments if s.row is not None]
    for group in _pack_rows(rows, size):
        first = group[0]
        if len(group) == 1 and count_tokens(first.text) > size:
            for span in split_text(first.text, size=size, overlap=overlap):
                add(first.text[span.start : span.end], first, span.start, span.tokens, first.row)
            continue
        text = "\n".join(r.text for r in group)
        add(text, first, 0, sum(count_tokens(r.text) for r in group), group[-1].row)
    for segment in (s for s in segments if s.row is None):
        if not segment.headings:
            for span in split_text(segment.text, size=size, overlap=overlap):
                add(segment.text[span.start : span.end], segment, span.start, span.tokens, None)
            continue
        # Room for the heading line: the longest path, at most a quarter of the chunk.
        room = min(max(count_tokens(h) for _, h in segment.headings) + 1, size // 4)
        starts = [offset for offset, _ in segment.headings]
        for span in split_text(segment.text, size=size - room, overlap=min(overlap, size - room - 1)):
            body = segment.text[span.start : span.end]
            at = bisect_right(starts, span.start) - 1
            prefix = heading_prefix(segment.headings[at][1], body, room) if at >= 0 else ""
            add(prefix + body, segment, span.start, count_tokens(prefix) + span.tokens, None)
    return drafts


HEADING_SEPARATOR = " \u203a "  # " › " between the levels of a heading path


def heading_prefix(path: str, body: str, room: int) -> str:
    """The heading line a chunk starts with: the path, less its last level when the
    chunk itself starts with that heading, cut to `room` tokens; "" when nothing is left."""
    levels = path.split(HEADING_SEPARATOR)
    if body.startswith(levels[-1]):
        levels = levels[:-1]
    while levels and count_tokens(HEADING_SEPARATOR.join(levels)) + 1 > room:
        levels = levels[:-1] if len(levels) > 1 else []
    return HEADING_SEPARATOR.join(levels) + "\n" if levels else ""
