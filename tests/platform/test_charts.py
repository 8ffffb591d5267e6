"""Server-side SVG charts: accessible, escaped, every value readable from the markup."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils.safestring import SafeString

from aiplatform.charts import Series, bar_chart, display_number, line_chart, nice_ticks, plain_number

SVG = "{http://www.w3.org/2000/svg}"
DAYS = ["2025-03-01", "2025-03-02", "2025-03-03"]


def _parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(markup)  # fails on any markup that is not well-formed XML


def test_a_line_chart_names_itself_and_carries_every_value():
    # given three days of balance
    values = [Decimal("100.0000"), Decimal("97.5000"), Decimal("90")]

    # when it is drawn
    svg = line_chart(title="Balance", labels=DAYS, series=[Series("Balance", values)], desc="Last 3 days.")

    # then it is safe markup with a title and a summarising description the SVG is labelled by
    assert isinstance(svg, SafeString)
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-balance-title chart-balance-desc"
    assert root.find(f"{SVG}title").text == "Balance"
    assert root.find(f"{SVG}desc").text == (
        "Last 3 days. Balance: 100 on 2025-03-01, 90 on 2025-03-03, highest 100 on 2025-03-01."
    )
    # and one point per value, with its label and exact value as data attributes and a tooltip
    points = root.findall(f".//{SVG}circle")
    assert [(p.get("data-label"), p.get("data-value")) for p in points] == [
        ("2025-03-01", "100"),
        ("2025-03-02", "97.5"),
        ("2025-03-03", "90"),
    ]
    assert [p.find(f"{SVG}title").text for p in points] == [
        "2025-03-01 · Balance: 100",
        "2025-03-02 · Balance: 97.5",
        "2025-03-03 · Balance: 90",
    ]


def test_a_line_chart_has_axis_ticks_labels_and_titles():
    # given a series whose maximum is 90
    svg = line_chart(
        title="Balance",
        labels=DAYS,
        series=[Series("Balance", [10, 50, 90])],
        x_label="Day",
        y_label="Credits",
    )

    # then the y axis runs in round steps from 0 past the maximum, and both axes are titled
    root = _parse(svg)
    y_ticks = [t.text for t in root.findall(f".//{SVG}g[@class='chart-axis chart-axis-y']/{SVG}text")]
    assert y_ticks == ["0", "25", "50", "75", "100", "Credits"]
    x_ticks = [t.text for t in root.findall(f".//{SVG}g[@class='chart-axis chart-axis-x']/{SVG}text")]
    assert x_ticks == [*DAYS, "Day"]


def test_a_second_series_reads_on_its_own_right_axis():
    # given credits (hundreds) and calls (single digits) per day
    svg = line_chart(
        title="Usage per day",
        labels=DAYS,
        series=[Series("Credits", [Decimal("120"), Decimal("0"), Decimal("300")]), Series("Calls", [2, 0, 3], "right")],
    )

    # then each series has its group, the legend says which axis, and the right axis counts whole calls
    root = _parse(svg)
    groups = root.findall(f"{SVG}g[@data-series]")
    assert [g.get("data-series") for g in groups] == ["Credits", "Calls"]
    assert [g.get("class") for g in groups] == ["chart-series chart-series-1", "chart-series chart-series-2"]
    legend = [t.text for t in root.findall(f"{SVG}text[@class='chart-legend']")]
    assert legend == ["Credits", "Calls (right axis)"]
    right = [t.text for t in root.findall(f".//{SVG}g[@class='chart-axis chart-axis-y2']/{SVG}text")]
    assert right == ["0", "1", "2", "3"]
    # and the tallest point of each series touches the top of the plot
    tops = [min(float(c.get("cy")) for c in g.findall(f"{SVG}circle")) for g in groups]
    assert tops == [30.0, 30.0]


def test_chart_text_is_escaped():
    # given labels and names with markup in them
    hostile = '<script>alert("x")</script>'

    # when they are drawn
    line = line_chart(title=f"T {hostile}", labels=[hostile], series=[Series(hostile, [1])], desc=hostile)
    bars = bar_chart(title=hostile, labels=[hostile, 'a"b'], values=[1, 2], value_label=hostile)

    # then no markup gets through, and attributes stay well-formed
    for svg in (line, bars):
        assert "<script>" not in svg
        assert "&lt;script&gt;" in svg
        _parse(svg)
    assert 'data-label="a&quot;b"' in bars


def test_a_bar_chart_draws_one_labelled_bar_per_value():
    # given credits per model, one name too long to print whole
    long_name = "gpt-4o-mini-2024-07-18-preview"

    # when it is drawn
    svg = bar_chart(
        title="Credits per model",
        labels=[long_name, "local"],
        values=[Decimal("12.5000"), Decimal("3")],
        value_label="Credits",
    )

    # then each bar carries the whole label and exact value; the printed label is shortened
    root = _parse(svg)
    bars = root.findall(f"{SVG}g[@class='chart-bar']")
    assert [(b.get("data-label"), b.get("data-value")) for b in bars] == [(long_name, "12.5"), ("local", "3")]
    assert [b.find(f"{SVG}title").text for b in bars] == [f"{long_name}: 12.5 credits", "local: 3 credits"]
    assert [b.find(f"{SVG}text[@class='chart-bar-label']").text for b in bars] == ["gpt-4o-mini-2024-07-1…", "local"]
    assert [b.find(f"{SVG}text[@class='chart-bar-value']").text for b in bars] == ["12.5", "3"]
    # and bar lengths are proportional to the values on the 0-15 axis
    widths = [float(b.find(f"{SVG}rect").get("width")) for b in bars]
    assert widths[0] / widths[1] == pytest.approx(12.5 / 3, rel=0.01)
    ticks = [t.text for t in root.findall(f".//{SVG}g[@class='chart-axis chart-axis-x']/{SVG}text")]
    assert ticks == ["0", "5", "10", "15", "Credits"]
    assert root.find(f"{SVG}desc").text == f"{long_name}: 12.5, local: 3."


def test_empty_charts_say_so():
    # given no data
    line = _parse(line_chart(title="Balance", labels=[], series=[Series("Balance", [])]))
    bars = _parse(bar_chart(title="Per model", labels=[], values=[]))

    # then both say there is nothing to show, to eyes and to screen readers
    assert line.find(f"{SVG}text[@class='chart-empty']").text == "No data for this period."
    assert bars.find(f"{SVG}text[@class='chart-empty']").text == "No data for this period."
    assert bars.find(f"{SVG}desc").text == "No data for this period."
    assert line.findall(f".//{SVG}circle") == [] and bars.findall(f".//{SVG}rect") == []


def test_all_zero_values_still_get_an_axis():
    svg = _parse(line_chart(title="Spend", labels=DAYS, series=[Series("Spend", [0, 0, 0])]))
    ticks = [t.text for t in svg.findall(f".//{SVG}g[@class='chart-axis chart-axis-y']/{SVG}text")]
    assert ticks == ["0", "1"]
    assert {c.get("cy") for c in svg.findall(f".//{SVG}circle")} == {"212"}


def test_chart_ids_are_unique_per_title_or_given():
    assert re.search(
        r'id="chart-credits-per-day"', line_chart(title="Credits per day!", labels=[], series=[Series("a", [])])
    )
    assert 'id="usage-models"' in bar_chart(title="x", labels=[], values=[], chart_id="usage-models")


@pytest.mark.parametrize(
    "low,high,integer,expected",
    [
        (0, 7, False, [0, 2, 4, 6, 8]),
        (0, 8, False, [0, 2, 4, 6, 8]),
        (0, 1234.5, False, [0, 500, 1000, 1500]),
        (0, 0.3, False, [0, 0.1, 0.2, 0.3]),
        (-5, 10, False, [-5, 0, 5, 10]),
        (0, 3, True, [0, 1, 2, 3]),
        (0, 9, True, [0, 5, 10]),
        (0, 0.4, True, [0, 1]),
        (0, 0, True, [0, 1]),
    ],
)
def test_nice_ticks_cover_the_range_in_round_steps(low, high, integer, expected):
    assert nice_ticks(low, high, integer=integer) == pytest.approx(expected)


def test_number_formats():
    assert plain_number(Decimal("12.5000")) == "12.5"
    assert plain_number(Decimal("100.0000")) == "100"
    assert plain_number(Decimal("0E-4")) == "0"
    assert plain_number(1.25) == "1.25"
    assert display_number(Decimal("1234567.5000")) == "1,234,567.5"
    assert display_number(Decimal("-3.0000")) == "-3"


@pytest.mark.parametrize("series", [[], [Series("a", [1]), Series("b", [1]), Series("c", [1])]])
def test_a_line_chart_takes_one_or_two_series(series):
    with pytest.raises(ValueError):
        line_chart(title="x", labels=["d"], series=series)


def test_series_must_match_the_labels():
    with pytest.raises(ValueError):
        line_chart(title="x", labels=["d1", "d2"], series=[Series("a", [1])])
    with pytest.raises(ValueError):
        bar_chart(title="x", labels=["a"], values=[1, 2])
