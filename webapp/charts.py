"""Bar charts as server-rendered SVG geometry (the CSP forbids inline script and style, so
the template draws them with SVG attributes and CSS classes only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
        ((names.get(key, key), r["rate"], f"{r['rate']:.0%} ({r['met']}/{r['closed']})")
         for key, r in rates.items()),
        scale=1.0, rate=True,
    )  # fmt: skip
