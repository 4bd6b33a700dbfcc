"""Inline SVG charts drawn in Python: line charts (with buy/sell markers) and histograms.

Server-side SVG renders in every browser, offline, with no script to load or break, and it can be
checked by parsing the page.  Every chart has a title, labelled axes with round-valued ticks, and a
legend; long series are thinned per pixel column (:mod:`.downsample`) and coincident markers are
merged, so the size of the page does not grow with the length of the run.  All text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import attrs

from autotrader.report.downsample import Point, downsample
from autotrader.report.ticks import Tick, number_ticks, time_ticks

__all__ = ["Bar", "Frame", "Marker", "Series", "empty_chart", "histogram", "line_chart"]

BUY_COLOR = "#1a9850"
SELL_COLOR = "#d73027"


@attrs.frozen
class Frame:
    """A chart's size in SVG pixels and the margins kept for title, ticks and axis labels."""

    width: int = 1100
    height: int = 300
    left: int = 88
    right: int = 24
    top: int = 44
    bottom: int = 52

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


@attrs.frozen
class Series:
    """One line: ``points`` are (x, y) in data units, x as epoch seconds on a time axis."""

    name: str
    points: Sequence[Point]
    color: str
    step: bool = False
    """Hold each value until the next sample (positions change at a bar, not between bars)."""
    area: bool = False
    """Shade between the line and zero (drawdown)."""


@attrs.frozen
class Marker:
    """A fill on a price chart: ``kind`` is "buy" or "sell"; ``label`` is its tooltip."""

    x: float
    y: float
    kind: str
    label: str


@attrs.frozen
class Bar:
    """One histogram bin, ``low <= value < high``."""

    low: float
    high: float
    count: int
    label: str


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


class _Scale:
    """Maps a data interval onto a pixel interval (reversed for y: larger values are higher up)."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.high = low, high
        self._start = start
        self._factor = (end - start) / (high - low) if high != low else 0.0

    def __call__(self, value: float) -> float:
        return self._start + (value - self.low) * self._factor


def _extent(values: Iterable[float], *, pad: float = 0.0, minimum_span: float = 1.0) -> tuple[float, float]:
    items = list(values)
    if not items:
        return 0.0, 1.0
    low, high = min(items), max(items)
    if high == low:
        half = abs(low) * 0.01 or minimum_span / 2
        return low - half, high + half
    margin = (high - low) * pad
    return low - margin, high + margin


def _svg_open(chart_id: str, title: str, frame: Frame) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{esc(chart_id)}" '
        f'data-chart="{esc(chart_id)}" viewBox="0 0 {frame.width} {frame.height}" '
        f'role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
        f'<text class="chart-title" x="{frame.left}" y="24">{esc(title)}</text>',
    ]


def _axes(
    frame: Frame,
    x_scale: _Scale,
    y_scale: _Scale,
    x_ticks: Sequence[Tick],
    y_ticks: Sequence[Tick],
    x_label: str,
    y_label: str,
) -> list[str]:
    parts = [
        f'<rect class="plot" x="{frame.left}" y="{frame.top}" width="{frame.plot_width}" '
        f'height="{frame.plot_height}"/>'
    ]
    right = frame.left + frame.plot_width
    for value, label in y_ticks:
        if not y_scale.low <= value <= y_scale.high:
            continue
        y = y_scale(value)
        parts.append(f'<line class="grid" x1="{frame.left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick y-tick" x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{esc(label)}</text>'
        )
    for value, label in x_ticks:
        if not x_scale.low <= value <= x_scale.high:
            continue
        x = x_scale(value)
        parts.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.plot_bottom}" '
            f'y2="{frame.plot_bottom + 5}"/>'
        )
        parts.append(
            f'<text class="tick x-tick" x="{x:.1f}" y="{frame.plot_bottom + 19}" '
            f'text-anchor="middle">{esc(label)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{frame.plot_bottom}"/>'
    )
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{right}" y1="{frame.plot_bottom}" '
        f'y2="{frame.plot_bottom}"/>'
    )
    middle_y = frame.top + frame.plot_height / 2
    parts.append(
        f'<text class="axis-label y-label" transform="translate(16 {middle_y:.1f}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    if x_label:
        parts.append(
            f'<text class="axis-label x-label" x="{frame.left + frame.plot_width / 2:.1f}" '
            f'y="{frame.height - 8}" text-anchor="middle">{esc(x_label)}</text>'
        )
    return parts


def _legend(frame: Frame, entries: Sequence[tuple[str, str]]) -> list[str]:
    """Entries (label, swatch SVG) right-aligned above the plot; widths estimated from text length."""
    widths = [30 + 7 * len(label) for label, _ in entries]
    x = frame.width - frame.right - sum(widths)
    parts = ['<g class="legend">']
    for (label, swatch), width in zip(entries, widths, strict=True):
        parts.append(f'<g transform="translate({x} 20)">{swatch}<text x="22" y="4">{esc(label)}</text></g>')
        x += width
    parts.append("</g>")
    return parts


def _pixel_points(points: Iterable[Point], x_scale: _Scale, y_scale: _Scale, *, step: bool) -> list[Point]:
    pixels: list[Point] = []
    for x, y in points:
        px, py = round(x_scale(x), 1), round(y_scale(y), 1)
        if step and pixels and pixels[-1][1] != py:
            pixels.append((px, pixels[-1][1]))
        if not pixels or pixels[-1] != (px, py):
            pixels.append((px, py))
    return pixels


def _format_points(pixels: Iterable[Point]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)


def _triangle(x: float, y: float, kind: str) -> str:
    if kind == "buy":
        return f"M{x:.1f},{y - 7:.1f} l6,10 h-12 z"
    return f"M{x:.1f},{y + 7:.1f} l6,-10 h-12 z"


def _markers(markers: Sequence[Marker], x_scale: _Scale, y_scale: _Scale) -> list[str]:
    """One triangle per (pixel, side): fills drawn on the same spot are merged into one tooltip."""
    merged: dict[tuple[int, int, str], list[Marker]] = {}
    for marker in markers:
        key = (round(x_scale(marker.x)), round(y_scale(marker.y)), marker.kind)
        merged.setdefault(key, []).append(marker)
    parts = ['<g class="fills">']
    for (_, _, kind), group in merged.items():
        first = group[0]
        label = first.label if len(group) == 1 else f"{first.label} (+{len(group) - 1} more here)"
        x, y = x_scale(first.x), y_scale(first.y)
        color = BUY_COLOR if kind == "buy" else SELL_COLOR
        parts.append(
            f'<path class="fill {esc(kind)}" data-count="{len(group)}" d="{_triangle(x, y, kind)}" '
            f'fill="{color}"><title>{esc(label)}</title></path>'
        )
    parts.append("</g>")
    return parts


def line_chart(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    *,
    time_axis: bool,
    y_label: str,
    x_label: str = "",
    markers: Sequence[Marker] = (),
    frame: Frame | None = None,
) -> str:
    """A line chart of ``series`` (and ``markers``) with axes, ticks, grid and legend.

    Series with no points are left out of the drawing; with nothing to draw at all the chart says
    so instead of showing empty axes.
    """
    frame = frame or Frame()
    drawn = [s for s in series if s.points]
    if not drawn:
        return empty_chart(chart_id, title, "no data recorded", frame=frame)
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points] + [m.y for m in markers]
    if any(s.area for s in drawn):
        ys.append(0.0)
    x_low, x_high = _extent(xs, minimum_span=3600.0 if time_axis else 1.0)
    y_low, y_high = _extent(ys, pad=0.05)
    x_scale = _Scale(x_low, x_high, frame.left, frame.left + frame.plot_width)
    y_scale = _Scale(y_low, y_high, frame.plot_bottom, frame.top)
    x_ticks = time_ticks(x_low, x_high) if time_axis else number_ticks(x_low, x_high, 8)
    parts = _svg_open(chart_id, title, frame)
    parts += _axes(frame, x_scale, y_scale, x_ticks, number_ticks(y_low, y_high), x_label, y_label)
    legend: list[tuple[str, str]] = []
    for item in drawn:
        thinned = downsample(item.points, x_low, x_high, frame.plot_width)
        pixels = _pixel_points(thinned, x_scale, y_scale, step=item.step)
        color = esc(item.color)
        if item.area:
            zero = y_scale(0.0)
            outline = [*pixels, (pixels[-1][0], zero), (pixels[0][0], zero)]
            parts.append(
                f'<polygon class="area" points="{_format_points(outline)}" fill="{color}" '
                'fill-opacity="0.18"/>'
            )
        parts.append(
            f'<polyline class="series" data-series="{esc(item.name)}" fill="none" stroke="{color}" '
            f'stroke-width="1.6" stroke-linejoin="round" points="{_format_points(pixels)}"/>'
        )
        legend.append((item.name, f'<line x1="0" x2="16" y1="0" y2="0" stroke="{color}" stroke-width="3"/>'))
    if markers:
        parts += _markers(markers, x_scale, y_scale)
        legend.append(("buy", f'<path d="{_triangle(8, 2, "buy")}" fill="{BUY_COLOR}"/>'))
        legend.append(("sell", f'<path d="{_triangle(8, -2, "sell")}" fill="{SELL_COLOR}"/>'))
    parts += _legend(frame, legend)
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    x_label: str,
    y_label: str = "count",
    color: str = "#4575b4",
    frame: Frame | None = None,
) -> str:
    """Vertical bars over contiguous bins, each with a tooltip naming its range and count."""
    frame = frame or Frame()
    if not bars:
        return empty_chart(chart_id, title, "no data recorded", frame=frame)
    x_low, x_high = bars[0].low, bars[-1].high
    if x_high <= x_low:
        x_high = x_low + 1.0
    top = max(bar.count for bar in bars)
    x_scale = _Scale(x_low, x_high, frame.left, frame.left + frame.plot_width)
    y_scale = _Scale(0.0, max(top * 1.1, 1.0), frame.plot_bottom, frame.top)
    y_ticks = [tick for tick in number_ticks(0.0, y_scale.high) if tick[0] == int(tick[0])]
    parts = _svg_open(chart_id, title, frame)
    parts += _axes(frame, x_scale, y_scale, number_ticks(x_low, x_high, 8), y_ticks, x_label, y_label)
    parts.append('<g class="bars">')
    for bar in bars:
        left, right = x_scale(bar.low), x_scale(bar.high)
        y = y_scale(bar.count)
        parts.append(
            f'<rect class="bar" data-count="{bar.count}" x="{left + 0.5:.1f}" y="{y:.1f}" '
            f'width="{max(right - left - 1, 0.5):.1f}" height="{frame.plot_bottom - y:.1f}" '
            f'fill="{esc(color)}"><title>{esc(bar.label)}</title></rect>'
        )
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def empty_chart(chart_id: str, title: str, message: str, *, frame: Frame | None = None) -> str:
    """A titled placeholder, so a run without (say) fills still shows where their chart would be."""
    frame = frame or Frame(height=120)
    parts = _svg_open(chart_id, title, frame)
    parts.append(
        f'<text class="empty" x="{frame.width / 2:.0f}" y="{frame.height / 2 + 10:.0f}" '
        f'text-anchor="middle">{esc(message)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
