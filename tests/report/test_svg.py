"""The SVG chart builders: axes and labels, long series thinned, markers merged, text escaped."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from autotrader.report.svg import Bar, Marker, Series, empty_chart, histogram, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    """Each chart is well-formed XML on its own (so it is valid SVG, not just tolerated HTML)."""
    return ET.fromstring(svg)


def test_line_chart_has_title_axes_ticks_and_the_series() -> None:
    points = [(float(i), float(i * i)) for i in range(100)]
    root = parse(
        line_chart("demo", "Squares", [Series("sq", points, "#123456")], time_axis=False, y_label="y")
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Squares" in texts and "y" in texts and "sq" in texts
    assert sum(1 for t in root.iter(f"{SVG}text") if "y-tick" in t.get("class", "")) >= 3
    assert sum(1 for t in root.iter(f"{SVG}text") if "x-tick" in t.get("class", "")) >= 3
    (line,) = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "series"]
    assert line.get("data-series") == "sq" and len(line.get("points", "").split()) == 100
    assert root.get("data-chart") == "demo"


def test_thousands_of_points_are_thinned_to_the_plot_width() -> None:
    points = [(float(i), float(i % 97)) for i in range(50_000)]
    svg = line_chart("big", "Big", [Series("s", points, "#000")], time_axis=False, y_label="v")
    (line,) = parse(svg).iter(f"{SVG}polyline")
    count = len(line.get("points", "").split())
    assert 100 < count <= 4 * 1000
    assert len(svg) < 120_000


def test_pixel_extremes_of_a_thinned_series_are_drawn() -> None:
    points = [(float(i), 0.0) for i in range(10_000)]
    points[5000] = (5000.0, 100.0)
    root = parse(line_chart("spike", "Spike", [Series("s", points, "#000")], time_axis=False, y_label="v"))
    (line,) = root.iter(f"{SVG}polyline")
    ys = [float(p.split(",")[1]) for p in line.get("points", "").split()]
    assert min(ys) < 60  # the spike reaches the top of the plot (top margin 44 px)


def test_empty_series_give_a_placeholder_not_empty_axes() -> None:
    svg = line_chart("none", "Nothing", [Series("s", [], "#000")], time_axis=True, y_label="v")
    root = parse(svg)
    assert not list(root.iter(f"{SVG}polyline"))
    assert "no data recorded" in [t.text for t in root.iter(f"{SVG}text")]
    assert "Nothing" in empty_chart("x", "Nothing", "empty")
    assert "no data recorded" in histogram("h", "H", [], x_label="ms")


def test_single_point_and_flat_series_still_draw() -> None:
    for points in ([(5.0, 3.0)], [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]):
        root = parse(line_chart("one", "One", [Series("s", points, "#000")], time_axis=True, y_label="v"))
        assert len(list(root.iter(f"{SVG}polyline"))) == 1


def test_step_series_hold_their_value_until_the_next_sample() -> None:
    series = Series("s", [(0.0, 0.0), (1.0, 10.0), (2.0, 0.0)], "#000", step=True)
    root = parse(line_chart("st", "Step", [series], time_axis=False, y_label="q"))
    (line,) = root.iter(f"{SVG}polyline")
    pixels = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
    assert len(pixels) == 5  # each change is a vertical edge at the new sample's x
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(pixels))


def test_markers_are_split_by_side_and_merged_per_pixel() -> None:
    markers = [
        Marker(1.0, 1.0, "buy", "BUY 1"),
        Marker(1.0, 1.0, "buy", "BUY 2"),
        Marker(2.0, 2.0, "sell", "S"),
    ]
    svg = line_chart(
        "m",
        "M",
        [Series("p", [(0.0, 0.0), (3.0, 3.0)], "#000")],
        time_axis=False,
        y_label="p",
        markers=markers,
    )
    root = parse(svg)
    paths = [p for p in root.iter(f"{SVG}path") if "fill" in p.get("class", "").split()]
    assert sorted((p.get("class"), p.get("data-count")) for p in paths) == [
        ("fill buy", "2"),
        ("fill sell", "1"),
    ]
    titles = {p.get("class"): p.find(f"{SVG}title").text for p in paths}  # type: ignore[union-attr]
    assert titles == {"fill buy": "BUY 1 (+1 more here)", "fill sell": "S"}
    assert "buy" in [t.text for t in root.iter(f"{SVG}text")]  # the legend names the sides


def test_all_text_is_escaped() -> None:
    evil = '<script>alert("x")</script> & co'
    svg = line_chart(
        evil,
        evil,
        [Series(evil, [(0.0, 0.0), (1.0, 1.0)], "#000")],
        time_axis=False,
        y_label=evil,
        x_label=evil,
        markers=[Marker(0.5, 0.5, "buy", evil)],
    )
    assert "<script>" not in svg
    root = parse(svg)  # well-formed despite the quotes, ampersand and angle brackets
    assert root.get("data-chart") == evil
    assert evil in [t.text for t in root.iter(f"{SVG}text")]


def test_histogram_bars_carry_their_counts() -> None:
    bars = [Bar(0, 1, 3, "0-1 ms: 3"), Bar(1, 2, 0, "1-2 ms: 0"), Bar(2, 3, 7, "2-3 ms: 7")]
    root = parse(histogram("h", "Latency", bars, x_label="latency (ms)"))
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert [r.get("data-count") for r in rects] == ["3", "0", "7"]
    heights = [float(r.get("height", "0")) for r in rects]
    assert heights[2] > heights[0] > heights[1] == 0
    assert "latency (ms)" in [t.text for t in root.iter(f"{SVG}text")]
