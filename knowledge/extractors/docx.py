"""Word (.docx): paragraphs and table rows in document order (python-docx)."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from . import ExtractionError, Segment

DAMAGED = "This Word document could not be opened; it may be damaged or not a .docx file. Save it as .docx again."


def _table_lines(table: Table) -> list[str]:
    rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
    if not rows:
        return []
    # The first row is taken as headers, so each row reads on its own ("Region: North; Margin: 4%").
    headers, lines = rows[0], []
    for cells in rows[1:]:
        pairs = [f"{h}: {v}" if h else v for h, v in zip(headers, cells, strict=False) if v]
        if pairs:
            lines.append("; ".join(pairs))
    return lines if lines else ["; ".join(h for h in headers if h)]


def extract(data: bytes) -> list[Segment]:
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionError(DAMAGED) from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                lines.append(block.text.strip())
        elif isinstance(block, Table):
            lines.extend(_table_lines(block))
    text = "\n\n".join(lines)
    return [Segment(text=text)] if text.strip() else []
