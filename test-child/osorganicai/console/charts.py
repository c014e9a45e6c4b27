"""Charts drawn on the server as SVG markup: vertical bars over time, a line over time, horizontal
bars per category. No JavaScript and no third-party code at run time; colours come from classes
in `static/console.css` (the Content-Security-Policy allows no inline style). Every label is
escaped (the templates insert the markup as is), and each chart carries a `<title>` and an
`aria-label` so it reads without the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 220
MARGIN_LEFT = 56
MARGIN_BOTTOM = 28
MARGIN_TOP = 12
BAR_ROW_HEIGHT = 22
BAR_LABEL_WIDTH = 180
VALUE_LABEL_WIDTH = 200  # room right of the longest bar for its value, e.g. "$1,234.56 · 12,345,678 tokens"


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    shown: str  # the value as the reader should see it, e.g. "$1.20" or "12,345"


def _scale(values: Sequence[float]) -> float:
    top = max(values, default=0.0)
    return top if top > 0 else 1.0


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return head + "".join(body) + "</svg>"


def _axis(top_shown: str, inner_height: int, width: int) -> list[str]:
    bottom = MARGIN_TOP + inner_height
    return [
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}"/>',
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{bottom}" x2="{width}" y2="{bottom}"/>',
        f'<text class="tick" x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + 10}" text-anchor="end">{escape(top_shown)}</text>',
        f'<text class="tick" x="{MARGIN_LEFT - 4}" y="{bottom}" text-anchor="end">0</text>',
    ]


def _date_ticks(points: Sequence[Point], step: float, bottom: int) -> list[str]:
    """A label under the first, the last and about every seventh point; the last one ends at the chart's
    right edge (centred under the last point, it would stick out of the chart)."""
    ticks = []
    last = len(points) - 1
    for index, point in enumerate(points):
        if index in (0, last) or (index % 7 == 0 and last - index > 3):
            x, anchor = (MARGIN_LEFT + step * index + step / 2, "middle") if index != last or index == 0 else (WIDTH, "end")
            ticks.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="{anchor}">{escape(point.label)}</text>')
    return ticks


def bar_chart(points: Sequence[Point], title: str, top_shown: str) -> str:
    """Vertical bars, one per point (a day), each with a tooltip giving its label and value."""
    inner_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _scale([point.value for point in points])
    step = (WIDTH - MARGIN_LEFT) / max(len(points), 1)
    body = _axis(top_shown, inner_height, WIDTH)
    for index, point in enumerate(points):
        height = inner_height * max(point.value, 0.0) / top
        x = MARGIN_LEFT + step * index + step * 0.15
        y = MARGIN_TOP + inner_height - height
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}">'
            f"<title>{escape(point.label)}: {escape(point.shown)}</title></rect>"
        )
    body += _date_ticks(points, step, MARGIN_TOP + inner_height)
    return _svg(WIDTH, HEIGHT, title, body)


def line_chart(points: Sequence[Point], title: str, top_shown: str) -> str:
    """A line through the points (days), with a dot and a tooltip on each."""
    inner_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _scale([point.value for point in points])
    step = (WIDTH - MARGIN_LEFT) / max(len(points), 1)
    coordinates = [
        (MARGIN_LEFT + step * index + step / 2, MARGIN_TOP + inner_height - inner_height * max(point.value, 0.0) / top)
        for index, point in enumerate(points)
    ]
    body = _axis(top_shown, inner_height, WIDTH)
    if coordinates:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        body.append(f'<polyline class="line" points="{path}"/>')
    for (x, y), point in zip(coordinates, points, strict=True):
        body.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(point.label)}: {escape(point.shown)}</title></circle>"
        )
    body += _date_ticks(points, step, MARGIN_TOP + inner_height)
    return _svg(WIDTH, HEIGHT, title, body)


def horizontal_bars(points: Sequence[Point], title: str) -> str:
    """One labelled bar a row (an agent, a model, an issue), longest for the largest value."""
    height = MARGIN_TOP + BAR_ROW_HEIGHT * max(len(points), 1) + 4
    top = _scale([point.value for point in points])
    usable = WIDTH - BAR_LABEL_WIDTH - VALUE_LABEL_WIDTH
    body = []
    if not points:
        body.append(f'<text class="tick" x="0" y="{MARGIN_TOP + 12}">nothing recorded yet</text>')
    for index, point in enumerate(points):
        y = MARGIN_TOP + BAR_ROW_HEIGHT * index
        length = usable * max(point.value, 0.0) / top
        body.append(
            f'<text class="label" x="{BAR_LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{escape(point.label[:30])}</text>'
        )
        body.append(
            f'<rect class="bar" x="{BAR_LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{BAR_ROW_HEIGHT - 6}">'
            f"<title>{escape(point.label)}: {escape(point.shown)}</title></rect>"
        )
        body.append(f'<text class="value" x="{BAR_LABEL_WIDTH + length + 6:.1f}" y="{y + 14}">{escape(point.shown)}</text>')
    return _svg(WIDTH, height, title, body)
