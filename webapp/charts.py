"""Bar and line charts as server-rendered SVG geometry (the CSP forbids inline script and style, so
the template draws them with SVG attributes and CSS classes only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .i18n import colon

ROW = 22  # px per bar, label included
LABEL = 140  # px left of the bars for the label
WIDTH = 320  # px of the longest bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written after the bar (e.g. "83% (5/6)")
    y: int
    width: int
    tone: str  # a CSS class: good, warn, bad


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = LABEL + WIDTH + 110
    label_width: int = LABEL


def bars(items: Iterable[tuple[str, float, str]], scale: float | None = None,
         rate: bool = False) -> Chart:  # fmt: skip
    """``items`` are (label, value, text); bars scale to ``scale`` (default: the largest
    value). With ``rate`` the tone reflects an on-time rate (0–1) instead of a size."""
    rows = list(items)
    top = scale or max((v for _, v, _ in rows), default=0) or 1
    drawn = [
        Bar(label, value, text, i * ROW, max(int(WIDTH * value / top), 1), _tone(value, rate))
        for i, (label, value, text) in enumerate(rows)
    ]
    return Chart(drawn, max(len(drawn), 1) * ROW)


def _tone(value: float, rate: bool) -> str:
    if not rate:
        return "bad"
    return "good" if value >= 0.9 else "warn" if value >= 0.7 else "bad"


def rate_chart(rates: dict[str, dict[str, float]], names: dict[str, str] | None = None) -> Chart:
    """On-time rates as ``{key: {"rate", "met", "closed"}}`` (queries.board's shape)."""
    names = names or {}
    return bars(
        ((names.get(key, key), r["rate"], rate_text(r)) for key, r in rates.items()),
        scale=1.0, rate=True,
    )  # fmt: skip


# --- line charts: a rate over periods, one line per series --------------------------------

PLOT_WIDTH, PLOT_HEIGHT = 560, 200  # px of the plot area
AXIS = 44  # px left of the plot for the percentages
BELOW = 28  # px under the plot for the periods
LEGEND = 170  # px right of the plot for the legend
MAX_X_LABELS = 12
# Colours as SVG presentation attributes (not style): the CSP allows them.
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#4b5563")  # fmt: skip


@dataclass(frozen=True)
class Dot:
    x: int
    y: int
    title: str  # the hover text, e.g. "李窗口 · 2026-03-02: 50% (1/2)"


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    segments: list[str]  # polyline points ("x,y x,y"); a period without data breaks the line
    dots: list[Dot]
    legend_y: int


@dataclass(frozen=True)
class Tick:
    at: int
    text: str


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    left: int = AXIS
    top: int = 8
    plot_width: int = PLOT_WIDTH
    plot_height: int = PLOT_HEIGHT
    width: int = AXIS + PLOT_WIDTH + LEGEND
    height: int = 8 + PLOT_HEIGHT + BELOW  # or more, for a long legend


def rate_lines(
    periods: list[str], series: Iterable[tuple[str, list[tuple[float, str] | None]]]
) -> LineChart:
    """On-time rates (0–1) over ``periods``: each series is (label, one (rate, text) per
    period, or None where nothing was completed)."""
    top = LineChart.top
    step = PLOT_WIDTH / max(len(periods), 1)

    def x(i: int) -> int:
        return round(AXIS + step * (i + 0.5))

    def y(rate: float) -> int:
        return round(top + (1 - rate) * PLOT_HEIGHT)

    lines = []
    for n, (label, points) in enumerate(series):
        segments: list[list[str]] = [[]]
        dots = []
        for i, point in enumerate(points):
            if point is None:
                segments.append([])
                continue
            rate, text = point
            segments[-1].append(f"{x(i)},{y(rate)}")
            dots.append(Dot(x(i), y(rate), f"{label} · {periods[i]}{colon()}{text}"))
        colour = PALETTE[n % len(PALETTE)]
        drawn = [" ".join(s) for s in segments if len(s) > 1]
        lines.append(Line(label, colour, drawn, dots, top + 12 + n * 18))
    every = -(-len(periods) // MAX_X_LABELS)  # labels that do not overlap
    x_ticks = [Tick(x(i), p) for i, p in enumerate(periods) if i % every == 0]
    y_ticks = [Tick(y(r / 4), f"{r * 25}%") for r in range(5)]
    height = max(LineChart.height, top + 12 + len(lines) * 18)
    return LineChart(lines, x_ticks, y_ticks, height=height)


def trend_chart(view: dict[str, Any]) -> LineChart:
    """The lines of an on-time trend (``webapp.oversight.trends``' shape)."""
    cut = 7 if view["period"] == "month" else 10  # "2026-03" or "2026-03-02" (a Monday)
    return rate_lines(
        [p["start"][:cut] for p in view["periods"]],
        ((line["label"], [(p["rate"], rate_text(p)) if p else None for p in line["points"]])
         for line in view["series"]),
    )  # fmt: skip


def rate_text(figures: dict[str, Any]) -> str:
    return f"{figures['rate']:.0%} ({figures['met']}/{figures['closed']})"
