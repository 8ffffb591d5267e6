"""Which format a file is, and its text as segments (pages, rows, whole text)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import PurePath

from knowledge.extractors import ExtractionError, Segment, docx, markup, pdf, tabular
from knowledge.models import Document

Kind = Document.Kind

EXTENSIONS: dict[str, str] = {
    ".pdf": Kind.PDF,
    ".docx": Kind.DOCX,
    ".csv": Kind.CSV,
    ".xlsx": Kind.XLSX,
    ".txt": Kind.TXT,
    ".text": Kind.TXT,
    ".md": Kind.MARKDOWN,
    ".markdown": Kind.MARKDOWN,
    ".html": Kind.HTML,
    ".htm": Kind.HTML,
}
EXTRACTORS: dict[str, Callable[[bytes], list[Segment]]] = {
    Kind.PDF: pdf.extract,
    Kind.DOCX: docx.extract,
    Kind.CSV: tabular.extract_csv,
    Kind.XLSX: tabular.extract_xlsx,
    Kind.TXT: markup.extract_text,
    Kind.MARKDOWN: markup.extract_markdown,
    Kind.HTML: markup.extract_html,
}
SUPPORTED = "PDF, Word (.docx), CSV, Excel (.xlsx), text, Markdown and HTML"


def kind_of(filename: str) -> str:
    return EXTENSIONS.get(PurePath(filename).suffix.lower(), Kind.UNKNOWN)


def mime_type_of(filename: str, declared: str = "") -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return (guessed or declared or "application/octet-stream")[:100]


def unsupported_message(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower() or "without an extension"
    return f"Files of type {suffix} are not supported. Upload {SUPPORTED} files."


def extract(data: bytes, kind: str) -> list[Segment]:
    """The file's text as segments; ExtractionError when it has none or cannot be read."""
    if not data:
        raise ExtractionError("The file is empty.")
    extractor = EXTRACTORS.get(kind)
    if extractor is None:
        raise ExtractionError(f"This type of file is not supported. Upload {SUPPORTED} files.")
    segments = extractor(data)
    if not segments:
        hint = " If it is a scanned document, run it through text recognition (OCR) first." if kind == Kind.PDF else ""
        raise ExtractionError(f"No text could be found in this file.{hint}")
    return segments
