"""Server-side SVG charts for the HTML pages: no JavaScript, no CDN.

Pure functions: data in, SVG markup out, marked safe for templates because every
piece of text in it is escaped here. The chart scales to its container through
its viewBox (a phone shows it whole). Each chart names itself for screen readers
(`<title>` and a `<desc>` that summarises the data), and each point or bar carries
its label and value as `data-*` attributes and a `<title>` (the hover tooltip).
Colours come from CSS classes (`chart-series-1`, `chart-bar`), so dark mode works.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal

WIDTH = 480
FONT = 12
_LEFT_AXIS, _RIGHT_AXIS = "left", "right"


@dataclass(frozen=True)
class Series:
    """One line. A series on the right axis reads on its own scale (e.g. calls next to credits)."""

    name: str
    values: Sequence[Number]
    axis: str = _LEFT_AXIS


# --- numbers ---------------------------------------------------------------------


def plain_number(value: Number) -> str:
    """Exact and machine-readable: `12.5`, `100`, `-3` (for data-* attributes)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    dec = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not dec.is_finite():
        return "0"
    text = format(dec.normalize(), "f")
    return "0" if text in ("-0", "") else text


def display_number(value: Number) -> str:
    """For people: thousands separated, no trailing zeros (`1,234.5`)."""
    text = plain_number(value)
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


def _tick_text(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if magnitude >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{round(value, 6):g}"


def nice_ticks(low: float, high: float, count: int = 4, *, integer: bool = False) -> list[float]:
    """Round axis ticks covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high <= low:
        high = low + (1 if integer or low == 0 else abs(low))
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = [m * magnitude for m in (1, 2, 2.5, 5, 10)]
    if integer:  # whole counts step by whole numbers
        steps = [max(1, s) for s in steps if s >= 1 and s == int(s)] or [1]
    step = next((s for s in steps if s >= raw), steps[-1])
    start = math.floor(low / step + 1e-9) * step
    ticks = [round(start, 10)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(start + len(ticks) * step, 10))
    return ticks


def _is_integral(values: Sequence[Number]) -> bool:
    return all(isinstance(v, int) for v in values)


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# --- markup helpers -------------------------------------------------------------------


def _id(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return f"chart-{slug or 'x'}"


def _open(kind: str, chart_id: str, title: str, desc: str, height: float) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{cid}" data-chart="{kind}" '
        f'viewBox="0 0 {WIDTH} {_f(height)}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'preserveAspectRatio="xMidYMid meet" font-size="{FONT}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(parts: list[str], width: float, height: float, message: str) -> SafeString:
    parts.append(_text(width / 2, height / 2, message, "chart-empty"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it was escaped above


def _label_indexes(n: int, most: int) -> list[int]:
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


# --- charts ----------------------------------------------------------------------------


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    desc: str = "",
    x_label: str = "",
    y_label: str = "",
    chart_id: str | None = None,
    height: int = 240,
    empty_message: str = "No data for this period.",
) -> SafeString:
    """A line chart of one or two series over the same labels (e.g. days).

    The first series reads on the left axis; a series with `axis="right"` gets a
    right axis of its own, titled with its name.
    """
    if not 1 <= len(series) <= 2:
        raise ValueError("A line chart shows one or two series.")
    n = len(labels)
    if any(len(s.values) != n for s in series):
        raise ValueError("Every series needs one value per label.")
    right = [s for s in series if s.axis == _RIGHT_AXIS]
    left = [s for s in series if s.axis != _RIGHT_AXIS] or right[:1]
    if left == right:
        right = []
    summary = " ".join(_series_summary(s, labels) for s in series)
    parts = _open("line", chart_id or _id(title), title, f"{desc} {summary}".strip(), height)
    margin_left, margin_right = 52, (52 if right else 16)
    top, bottom = 30, (44 if x_label else 28)
    plot_w, plot_h = WIDTH - margin_left - margin_right, height - top - bottom

    # legend
    x = margin_left
    for index, s in enumerate(series, start=1):
        name = s.name + (" (right axis)" if s in right else "")
        parts.append(f'<rect class="chart-swatch chart-series-{index}" x="{x}" y="8" width="12" height="12" rx="2"/>')
        parts.append(_text(x + 16, 18, name, "chart-legend", "start"))
        x += 16 + len(name) * 7 + 18
    if n == 0:
        return _empty(parts, WIDTH, height, empty_message)

    def scale(group: list[Series]):
        values = [float(v) for s in group for v in s.values]
        ticks = nice_ticks(
            min(0.0, *values), max(0.0, *values), integer=_is_integral([v for s in group for v in s.values])
        )
        low, high = ticks[0], ticks[-1]
        return ticks, (lambda v: top + plot_h - (float(v) - low) / (high - low) * plot_h)

    left_ticks, left_y = scale(left)
    parts.append('<g class="chart-axis chart-axis-y">')
    for tick in left_ticks:
        y = left_y(tick)
        parts.append(
            f'<line class="chart-grid" x1="{margin_left}" x2="{margin_left + plot_w}" y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        parts.append(_text(margin_left - 6, y + 4, _tick_text(tick), "chart-tick", "end"))
    if y_label:
        mid = top + plot_h / 2
        parts.append(_text(12, mid, y_label, "chart-axis-title", extra=f' transform="rotate(-90 12 {_f(mid)})"'))
    parts.append("</g>")
    right_y = None
    if right:
        right_ticks, right_y = scale(right)
        parts.append('<g class="chart-axis chart-axis-y2">')
        for tick in right_ticks:
            parts.append(_text(margin_left + plot_w + 6, right_y(tick) + 4, _tick_text(tick), "chart-tick", "start"))
        parts.append("</g>")

    def x_at(i: int) -> float:
        return margin_left + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    base = top + plot_h
    parts.append(f'<g class="chart-axis chart-axis-x"><line class="chart-baseline" x1="{margin_left}" '
                 f'x2="{margin_left + plot_w}" y1="{_f(base)}" y2="{_f(base)}"/>')  # fmt: skip
    widest = max(len(str(label)) for label in labels) * FONT * 0.6 + 12
    indexes = _label_indexes(n, max(2, min(6, int(plot_w // widest))))
    for i in indexes:
        anchor = "middle" if n == 1 else ("start" if i == 0 else "end" if i == n - 1 else "middle")
        parts.append(_text(x_at(i), base + 16, str(labels[i]), "chart-tick", anchor))
    if x_label:
        parts.append(_text(margin_left + plot_w / 2, height - 6, x_label, "chart-axis-title"))
    parts.append("</g>")

    for index, s in enumerate(series, start=1):
        y_of = right_y if s in right else left_y
        points = [(x_at(i), y_of(v)) for i, v in enumerate(s.values)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{_f(px)},{_f(py)}" for i, (px, py) in enumerate(points))
        parts.append(f'<g class="chart-series chart-series-{index}" data-series="{escape(s.name)}">')
        parts.append(f'<path class="chart-line" d="{path}" fill="none"/>')
        for (px, py), label, value in zip(points, labels, s.values, strict=True):
            parts.append(
                f'<circle class="chart-point" cx="{_f(px)}" cy="{_f(py)}" r="2.5" data-label="{escape(str(label))}" '
                f'data-value="{plain_number(value)}"><title>{escape(f"{label} · {s.name}: {display_number(value)}")}'
                "</title></circle>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it was escaped above


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    value_label: str = "",
    chart_id: str | None = None,
    empty_message: str = "No data for this period.",
) -> SafeString:
    """Horizontal bars (long names such as model ids stay readable on a phone)."""
    if len(labels) != len(values):
        raise ValueError("Every bar needs a label and a value.")
    bar, gap, top = 20, 10, 8
    label_w, value_w = 150, 64
    n = len(values)
    bottom = 44 if value_label else 28
    height = top + max(n, 1) * (bar + gap) + bottom
    summary = ", ".join(f"{label}: {display_number(v)}" for label, v in zip(labels, values, strict=True))
    full_desc = " ".join(p for p in (desc, f"{summary}." if summary else empty_message) if p)
    parts = _open("bar", chart_id or _id(title), title, full_desc, height)
    if n == 0:
        return _empty(parts, WIDTH, height - bottom / 2, empty_message)
    plot_x, plot_w = label_w, WIDTH - label_w - value_w
    floats = [max(0.0, float(v)) for v in values]
    ticks = nice_ticks(0, max(floats), integer=_is_integral(values))
    high = ticks[-1]
    base = top + n * (bar + gap)

    parts.append('<g class="chart-axis chart-axis-x">')
    for tick in ticks:
        x = plot_x + tick / high * plot_w
        parts.append(f'<line class="chart-grid" x1="{_f(x)}" x2="{_f(x)}" y1="{top}" y2="{_f(base)}"/>')
        parts.append(_text(x, base + 16, _tick_text(tick), "chart-tick"))
    if value_label:
        parts.append(_text(plot_x + plot_w / 2, height - 6, value_label, "chart-axis-title"))
    parts.append("</g>")

    for i, (label, value, length) in enumerate(zip(labels, values, floats, strict=True)):
        y = top + i * (bar + gap) + gap / 2
        w = length / high * plot_w
        tip = f"{label}: {display_number(value)}" + (f" {value_label.lower()}" if value_label else "")
        parts.append(
            f'<g class="chart-bar" data-label="{escape(str(label))}" data-value="{plain_number(value)}">'
            f"<title>{escape(tip)}</title>"
            + _text(plot_x - 6, y + bar / 2 + 4, _truncate(str(label), 22), "chart-bar-label", "end")
            + f'<rect x="{plot_x}" y="{_f(y)}" width="{_f(w)}" height="{bar}" rx="3"/>'
            + _text(plot_x + w + 4, y + bar / 2 + 4, display_number(value), "chart-bar-value", "start")
            + "</g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it was escaped above


def _series_summary(s: Series, labels: Sequence[str]) -> str:
    if not s.values:
        return f"{s.name}: no data."
    values = list(s.values)
    peak = max(range(len(values)), key=lambda i: values[i])
    return (
        f"{s.name}: {display_number(values[0])} on {labels[0]}, {display_number(values[-1])} on {labels[-1]}, "
        f"highest {display_number(values[peak])} on {labels[peak]}."
    )
