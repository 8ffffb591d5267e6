"""Text out of every supported format, from real generated files, and the
messages a user reads when a file cannot be used."""

from __future__ import annotations

import pytest

from knowledge.extractors import ExtractionError, Segment
from knowledge.services.extraction import extract, kind_of
from tests.knowledge import files


def test_pdf_gives_one_segment_per_page_with_its_number():
    # when
    segments = extract(files.pdf(), "pdf")
    # then
    assert [s.page for s in segments] == [1, 2]
    assert segments[0].text.startswith("Margin Low Strategy. When the gross margin")
    assert segments[1].text.endswith("longer than four hundred kilometres.")


def test_pdf_encrypted_with_an_empty_user_password_is_read():
    segments = extract(files.pdf(user_password=""), "pdf")
    assert [s.page for s in segments] == [1, 2]


def test_docx_keeps_paragraphs_and_reads_table_rows_with_their_headers():
    assert extract(files.docx_file(), "docx") == [
        Segment(
            text="Returns policy\n\nDamaged goods are refunded in full within thirty days of delivery.\n\n"
            "Region: North; Refund days: 30\n\nRegion: South; Refund days: 45\n\nOpened software cannot be returned."
        )
    ]


def test_csv_gives_one_segment_per_row_with_the_headers_kept():
    assert extract(files.CSV.encode(), "csv") == [
        Segment(text="sku: A-100; product: Steel pallet rack; margin: 8%", row=1),
        Segment(text="sku: A-200; product: Plastic crate; margin: 15%", row=2),
        Segment(text="sku: A-300; product: Forklift battery; margin: 11%", row=3),
    ]


def test_csv_with_semicolons_and_a_windows_encoding_is_read():
    data = "name;city\nJosé;Málaga\n".encode("cp1252")
    assert extract(data, "csv") == [Segment(text="name: José; city: Málaga", row=1)]


def test_xlsx_gives_one_segment_per_row_with_sheet_and_headers():
    assert extract(files.xlsx_file(), "xlsx") == [
        Segment(text="carrier: Northline Freight; on_time_rate: 97%", page=1, row=1, section="Carriers"),
        Segment(text="carrier: Coastal Haulage; on_time_rate: 88%", page=1, row=2, section="Carriers"),
    ]


def test_html_drops_tags_scripts_and_styles_and_unescapes_entities():
    assert extract(files.HTML.encode(), "html") == [
        Segment(
            text="Warehouse safety\n\nForklift drivers wear high-visibility vests & helmets.\n\n"
            "Aisles stay clear.\n\nSpeed limit: 8 km/h.",
            headings=((0, "Warehouse safety"),),  # the h1, which heads the chunks (the <title> only without one)
        )
    ]


def test_markdown_keeps_words_and_drops_markup_and_link_targets():
    assert extract(files.MARKDOWN.encode(), "md") == [
        Segment(
            text="Onboarding\n\nNew drivers shadow a senior driver for their first week.\n\n"
            "See the safety handbook before the first shift.",
            headings=((0, "Onboarding"),),
        )
    ]


def test_text_is_read_as_utf8_with_a_bom():
    data = "\ufeffCold chain rules.\n\nFrozen goods stay below −18 °C.\n".encode()
    assert extract(data, "txt") == [Segment(text="Cold chain rules.\n\nFrozen goods stay below −18 °C.")]


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (files.pdf(user_password="secret"), "pdf",
         "This PDF is password-protected. Remove the password and upload it again."),
        (files.corrupt_pdf(), "pdf",
         "This PDF could not be read; it may be damaged. Re-save or re-export it and upload it again."),
        (files.pdf(["   "]), "pdf",
         "No text could be found in this file. If it is a scanned document, run it through text recognition "
         "(OCR) first."),
        (b"", "txt", "The file is empty."),
        (b"   \n\n  ", "txt", "No text could be found in this file."),
        (files.BROKEN_CSV.encode(), "csv",
         "This CSV file has broken quoting in the record that starts on line 2 (unexpected end of data). "
         "Check that every quoted value is closed, then upload it again."),
        (b'sku,name\nA,"Crate"x\n', "csv",
         "This CSV file has broken quoting in the record that starts on line 2 (',' expected after '\"'). "
         "Check that every quoted value is closed, then upload it again."),
        (b"PK\x03\x04 not really a zip", "docx",
         "This Word document could not be opened; it may be damaged or not a .docx file. Save it as .docx again."),
        (b"not a workbook", "xlsx",
         "This Excel file could not be opened; it may be damaged or not an .xlsx file. Save it as .xlsx again."),
        (b"\x00\x01\x02binary", "txt", "This file does not look like text (it contains binary data)."),
    ],
)  # fmt: skip
def test_unusable_files_raise_a_message_for_the_user(data, kind, message):
    with pytest.raises(ExtractionError) as err:
        extract(data, kind)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Report.PDF", "pdf"), ("a.docx", "docx"), ("b.csv", "csv"), ("c.xlsx", "xlsx"), ("d.txt", "txt"),
     ("e.md", "md"), ("f.markdown", "md"), ("g.htm", "html"), ("h.html", "html"), ("i.doc", "unknown"),
     ("noext", "unknown"), ("j.exe", "unknown")],
)  # fmt: skip
def test_kind_comes_from_the_extension(name, kind):
    assert kind_of(name) == kind
