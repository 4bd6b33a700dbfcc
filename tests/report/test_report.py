"""``write_report`` on real runs of the engine: one self-contained HTML page and an equity PNG."""

from __future__ import annotations

import html
import re
import struct
import subprocess
import sys
from pathlib import Path

from autotrader.report import ReportFiles, write_report
from autotrader.runner import RunSummary

from .conftest import SummaryFactory
from .dom import ReportDom

CHARTS = {"equity", "drawdown", "positions", "price-EURUSD", "latency"}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_full_run_report(full_run: RunSummary, tmp_path: Path) -> None:
    files = write_report(full_run, tmp_path / "out")
    assert files == ReportFiles(html=tmp_path / "out" / "report.html", png=tmp_path / "out" / "equity.png")
    page = files.html.read_text(encoding="utf-8")
    assert len(page.encode()) < 2_000_000
    dom = ReportDom(page)
    assert set(dom.charts) == CHARTS
    for name in ("equity", "drawdown", "positions", "price-EURUSD"):
        assert dom.charts[name].polylines and dom.charts[name].polylines[0] > 500, name
    assert dom.charts["price-EURUSD"].markers["buy"] + dom.charts["price-EURUSD"].markers["sell"] == (
        full_run.fills
    )
    assert sum(dom.charts["latency"].bars) == len(full_run.fill_latencies)
    assert dom.tables["oms-metrics"]["total orders"] == str(full_run.orders)
    assert dom.tables["resiliency-stats"]["circuit state"] == "CLOSED"
    assert 'id="interrupted"' not in page
    assert f"{full_run.final_equity:.2f}" in page and f"{full_run.net_pnl:.2f}" in page
    assert png_size(files.png) == (1100, 440) and files.png.stat().st_size > 10_000


def test_the_page_needs_nothing_from_outside(full_run: RunSummary, tmp_path: Path) -> None:
    page = write_report(full_run, tmp_path).html.read_text(encoding="utf-8")
    dom = ReportDom(page)
    assert not {"script", "link", "img", "iframe", "object"} & set(dom.tags)
    assert not re.search(r"\b(src|href)\s*=", page)
    assert set(re.findall(r"https?://[^\s\"')]+", page)) == {"http://www.w3.org/2000/svg"}  # a namespace
    assert "default-src 'none'" in html.unescape(page)  # and the browser is told to fetch nothing


def test_interrupted_run_says_so(interrupted_run: RunSummary, tmp_path: Path) -> None:
    assert interrupted_run.interrupted and interrupted_run.kill_report is not None
    page = write_report(interrupted_run, tmp_path).html.read_text(encoding="utf-8")
    assert '<p class="banner" id="interrupted">Interrupted: the kill switch fired' in page
    dom = ReportDom(page)
    assert dom.tables["kill-report"]["closing orders"] == str(len(interrupted_run.kill_report.flatten_orders))


def test_report_text_is_escaped(summary_factory: SummaryFactory, tmp_path: Path) -> None:
    evil = "<img src=x onerror=alert(1)>&"
    summary = summary_factory(
        strategy=evil,
        broker=evil,
        status={"oms": {evil: evil}, "resiliency": {"last_failure": evil}, "trading_state": evil},
    )
    page = write_report(summary, tmp_path).html.read_text(encoding="utf-8")
    assert "<img" not in page
    dom = ReportDom(page)
    assert dom.tables["oms-metrics"][evil.replace("_", " ")] == evil
    assert dom.tables["resiliency-stats"]["last failure"] == evil


def test_an_empty_run_still_writes_both_files(summary_factory: SummaryFactory, tmp_path: Path) -> None:
    from autotrader.runner import RunRecord

    empty = summary_factory(
        bars=0, equity_curve=[], record=RunRecord(), fill_latencies=[], status={}, final_equity=0, net_pnl=0
    )
    files = write_report(empty, tmp_path / "new" / "dir")
    dom = ReportDom(files.html.read_text(encoding="utf-8"))
    assert {"equity", "drawdown", "positions", "latency"} <= set(dom.charts)
    assert "no data recorded" in dom.charts["equity"].texts
    assert dom.tables["oms-metrics"] == {}
    assert png_size(files.png)[0] > 0


def test_small_summary_money_is_shown_from_decimal(summary_factory: SummaryFactory, tmp_path: Path) -> None:
    dom = ReportDom(write_report(summary_factory(), tmp_path).html.read_text(encoding="utf-8"))
    assert dom.tables["oms-metrics"]["total commission"] == "19.75"
    assert dom.charts["price-EURUSD"].markers == {"buy": 1, "sell": 1}
    assert min(dom.charts["drawdown"].polylines) == 3


def test_importing_autotrader_does_not_import_matplotlib() -> None:
    code = "import sys, autotrader, autotrader.report; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
