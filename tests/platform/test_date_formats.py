"""Dates per language (issue 16, aiplatform/formats): a page names the format and each
language spells it its own way, 24-hour times in both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

MOMENT = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
PAGE = Template(
    '{{ t|date:"DATE_FORMAT" }}|{{ t|date:"DATETIME_FORMAT" }}|{{ t|date:"SHORT_DATETIME_FORMAT" }}'
    '|{{ t|date:"SHORT_DATE_FORMAT" }}|{{ t|date }}'
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Dec 4, 2026|Dec 4, 2026 14:05|Dec 4, 14:05|2026-12-04|Dec 4, 2026"),
        ("ko", "2026년 12월 4일|2026년 12월 4일 14:05|12월 4일 14:05|2026-12-04|2026년 12월 4일"),
    ],
)
def test_a_named_date_format_reads_as_its_language_writes_it(language, expected, settings):
    settings.TIME_ZONE = "UTC"
    with translation.override(language):
        assert PAGE.render(Context({"t": MOMENT})) == expected


def test_no_page_spells_out_a_month_name_format():
    # "M j" puts an English month first; a page names DATE_FORMAT / SHORT_DATETIME_FORMAT instead
    from aiplatform.i18n import ROOT

    spelled = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/templates/**/*.html")
        if ".venv" not in path.parts and ('date:"M ' in path.read_text() or "date:'M " in path.read_text())
    ]
    assert spelled == []
