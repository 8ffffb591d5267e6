"""CSV and Excel: one segment per data row, each cell named by its header, so a
row read on its own still says what its values are."""

from __future__ import annotations

import csv
import io
import zipfile

from . import ExtractionError, Segment, decode_text

MAX_FIELD = 1_000_000  # characters in one CSV cell


def row_text(headers: list[str], values: list[str]) -> str:
    parts = []
    for i, value in enumerate(values):
        value = value.strip()
        if not value:
            continue
        header = headers[i].strip() if i < len(headers) and headers[i].strip() else f"column {i + 1}"
        parts.append(f"{header}: {value}")
    return "; ".join(parts)


def extract_csv(data: bytes) -> list[Segment]:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_FIELD)
    # strict: a stray quote is an error rather than a silently merged row.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    segments: list[Segment] = []
    headers: list[str] | None = None
    while True:
        start = reader.line_num + 1  # a quoted value may span lines: report where its record began
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ExtractionError(
                f"This CSV file has broken quoting in the record that starts on line {start} ({exc}). "
                "Check that every quoted value is closed, then upload it again."
            )
        if not any(v.strip() for v in values):
            continue
        if headers is None:
            headers = values
            continue
        line = row_text(headers, values)
        if line:
            segments.append(Segment(text=line, row=len(segments) + 1))
    return segments


def extract_xlsx(data: bytes) -> list[Segment]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(
            "This Excel file could not be opened; it may be damaged or not an .xlsx file. Save it as .xlsx again."
        ) from exc
    segments: list[Segment] = []
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            headers: list[str] | None = None
            data_row = 0
            for cells in sheet.iter_rows(values_only=True):
                values = ["" if c is None else str(c) for c in cells]
                if not any(v.strip() for v in values):
                    continue
                if headers is None:
                    headers = values
                    continue
                data_row += 1
                line = row_text(headers, values)
                if line:
                    segments.append(Segment(text=line, page=number, row=data_row, section=sheet.title))
    finally:
        workbook.close()
    return segments
