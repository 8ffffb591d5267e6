"""One module per file format. Each turns bytes into `Segment`s (a page, a row,
a whole text) or raises `ExtractionError` with a message for the user."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A piece of a file that citations point at: a PDF page, a CSV/XLSX row, or
    the whole text of a document without pages."""

    text: str
    page: int | None = None
    row: int | None = None
    section: str = ""  # sheet name
    # Headings of the text, as (offset in `text` where the heading starts, heading path such as
    # "Page title › Section › Subsection"); the chunker prefixes the path in force to each chunk.
    headings: tuple[tuple[int, str], ...] = ()


class ExtractionError(Exception):
    """The file cannot be read; `message` says why in words the user understands."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str: UTF-8 (with or without BOM), UTF-16 with a BOM,
    else Windows-1252 (what spreadsheet exports on Windows write)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise ExtractionError("This file does not look like text (it contains binary data).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
