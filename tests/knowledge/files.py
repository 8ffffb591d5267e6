"""Real files of every supported format, generated here (no binary fixtures in
the repository): PDF with fpdf2, Word with python-docx, Excel with openpyxl."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx
from fpdf import FPDF
from openpyxl import Workbook

PAGE_ONE = (
    "Margin Low Strategy. When the gross margin of a product line falls below twelve percent, "
    "the regional manager reviews supplier contracts within two weeks."
)
PAGE_TWO = (
    "Freight consolidation. Combining partial loads into full truckloads cuts freight cost per pallet "
    "by roughly a fifth on routes longer than four hundred kilometres."
)


def pdf(pages: list[str] = (PAGE_ONE, PAGE_TWO), *, user_password: str | None = None) -> bytes:
    document = FPDF()
    # A fixed date (fpdf2 writes the current time otherwise): the same pages make the same bytes.
    document.set_creation_date(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    document.set_font("helvetica", size=11)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 6, text)
    if user_password is not None:
        document.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(document.output())


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf body\n%%EOF"


def docx_file() -> bytes:
    document = docx.Document()
    document.add_heading("Returns policy", level=1)
    document.add_paragraph("Damaged goods are refunded in full within thirty days of delivery.")
    table = document.add_table(rows=3, cols=2)
    for row, (region, days) in enumerate([("Region", "Refund days"), ("North", "30"), ("South", "45")]):
        table.cell(row, 0).text, table.cell(row, 1).text = region, days
    document.add_paragraph("Opened software cannot be returned.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


CSV = "sku,product,margin\nA-100,Steel pallet rack,8%\nA-200,Plastic crate,15%\nA-300,Forklift battery,11%\n"
BROKEN_CSV = 'sku,product,margin\nA-100,"Steel pallet rack,8%\nA-200,Plastic crate,15%\n'


def xlsx_file() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Carriers"
    sheet.append(["carrier", "on_time_rate"])
    sheet.append(["Northline Freight", "97%"])
    sheet.append(["Coastal Haulage", "88%"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HTML = (
    "<!doctype html><html><head><title>ignored</title><style>p{color:red}</style></head><body>"
    "<h1>Warehouse safety</h1><p>Forklift drivers wear high-visibility vests &amp; helmets.</p>"
    "<script>var tracking = 'never indexed';</script><ul><li>Aisles stay clear.</li><li>Speed limit: 8 km/h.</li>"
    "</ul></body></html>"
)
MARKDOWN = (
    "# Onboarding\n\nNew drivers shadow a **senior driver** for their first week.\n\n"
    "See the [safety handbook](https://example.com/handbook) before the first shift.\n"
)
TEXT = "Cold chain rules.\n\nFrozen goods stay below minus eighteen degrees Celsius from dock to shelf.\n"
