"""Reading a report page back: the charts, fill markers and tables it contains, as a browser built them."""

from __future__ import annotations

from html.parser import HTMLParser

import attrs


@attrs.define
class Chart:
    name: str
    polylines: list[int] = attrs.field(factory=list)
    """Point counts of each drawn series."""
    markers: dict[str, int] = attrs.field(factory=dict)
    """Fills drawn per side ("buy"/"sell"), summing each merged marker's count."""
    bars: list[int] = attrs.field(factory=list)
    texts: list[str] = attrs.field(factory=list)


class ReportDom(HTMLParser):
    """Collects every ``svg.chart`` with what is drawn in it, and every table's rows."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: dict[str, Chart] = {}
        self.tables: dict[str, dict[str, str]] = {}
        self.tags: list[str] = []
        self._chart: Chart | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] = []
        self._in_text = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs_}
        self.tags.append(tag)
        if tag == "svg" and "chart" in attributes.get("class", "").split():
            self._chart = self.charts[attributes["data-chart"]] = Chart(attributes["data-chart"])
        elif self._chart is not None:
            classes = attributes.get("class", "").split()
            if tag == "polyline" and "series" in classes:
                self._chart.polylines.append(len(attributes["points"].split()))
            elif tag == "path" and "fill" in classes:
                kind = classes[1]
                self._chart.markers[kind] = self._chart.markers.get(kind, 0) + int(attributes["data-count"])
            elif tag == "rect" and "bar" in classes:
                self._chart.bars.append(int(attributes["data-count"]))
            elif tag == "text":
                self._in_text = True
                self._chart.texts.append("")
        if tag == "table":
            self._table = attributes.get("id", "")
            self.tables[self._table] = {}
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None
        elif tag == "text":
            self._in_text = False
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._table is not None and len(self._row) == 2:
            self.tables[self._table][self._row[0]] = self._row[1]
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_text and self._chart is not None:
            self._chart.texts[-1] += data
