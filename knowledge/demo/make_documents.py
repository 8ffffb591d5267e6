"""Writes the two binary demo documents (PDF and Word) of Acme Logistics.

They are generated, not copied: `python knowledge/demo/make_documents.py` recreates
them (the PDF byte for byte; the .docx differs only in its zip timestamps). The
Markdown and CSV files are written by hand. Everything here is CC0 (see README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

CLAIMS = [
    ("Acme Logistics claims procedure for damaged or lost goods", None),
    (
        "Who can claim",
        "The sender or the receiver of a parcel shipped by Acme Logistics may claim. A business "
        "customer claims through its account manager; a private receiver through the web form.",
    ),
    (
        "Report within 48 hours",
        "Visible damage must be reported within 48 hours of delivery, and hidden damage "
        "(found when unpacking) within 7 days. A parcel not delivered 10 working days after dispatch counts as lost.",
    ),
    (
        "What to send",
        "Send the tracking number, at least three photos (the outer box, the label and the damaged "
        "goods), the invoice showing the value of the goods, and keep the packaging until the claim is closed.",
    ),
    (
        "How much Acme pays",
        "Acme pays the invoice value of the goods up to KRW 500,000 per parcel for standard and "
        "express services, and up to KRW 2,000,000 per pallet for freight. Goods of higher value need the declared "
        "value cover (1.5 percent of the declared value) bought at booking.",
    ),
    (
        "Decision and refund",
        "A claims handler decides within 5 working days of receiving a complete claim. An "
        "accepted claim is paid within 7 working days, to the account that paid for the shipment, together with the "
        "shipping charge of the damaged parcel.",
    ),
    (
        "Not covered",
        "Fragile goods without fragile packaging, perishable goods shipped without the cold-chain "
        "service, cash, and goods that the law forbids to ship are not covered.",
    ),
]

HANDBOOK = [
    ("Acme Logistics warehouse handbook", None),
    (
        "Opening hours",
        "The Incheon and Busan warehouses receive goods from 07:00 to 18:00 on working days. Pick "
        "and pack runs in two shifts, 06:00-14:30 and 14:00-22:30, so orders confirmed before 14:00 "
        "leave the same day.",
    ),
    (
        "Receiving",
        "Every inbound pallet is counted and scanned against its advance shipping notice. A difference of "
        "more than 2 percent is reported to the customer the same day, with photos.",
    ),
    (
        "Storage",
        "Ambient goods are stored at 15-25 C. The cold-chain zone holds 2-8 C and is logged every five "
        "minutes; an alarm sounds after 15 minutes outside that range and the shift lead moves the goods.",
    ),
    (
        "Hazardous goods",
        "Lithium batteries shipped alone, aerosols and flammable liquids go to the hazardous cage "
        "and ship only as freight with the dangerous goods declaration. Standard parcels never carry them.",
    ),
    (
        "Stock counts",
        "A cycle count covers every location once a quarter; high-value locations are counted every "
        "week. Stock accuracy target: 99.5 percent.",
    ),
]


def make_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.set_title(CLAIMS[0][0])
    pdf.set_author("Acme Logistics (demo data)")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, CLAIMS[0][0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, body in CLAIMS[1:]:
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    path.write_bytes(bytes(pdf.output()))


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.author, props.title = "Acme Logistics (demo data)", HANDBOOK[0][0]
    props.created = props.modified = FIXED.replace(tzinfo=None)
    props.last_modified_by, props.revision = "aiplatform", 1
    document.add_heading(HANDBOOK[0][0], level=0)
    for heading, body in HANDBOOK[1:]:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    document.save(str(path))


if __name__ == "__main__":
    make_pdf(HERE / "acme" / "acme-claims-procedure.pdf")
    make_docx(HERE / "acme" / "acme-warehouse-handbook.docx")
    print("written")
