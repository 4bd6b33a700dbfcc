"""The report as a real browser renders it: headless Chromium builds the DOM and takes a screenshot.

Skipped only when ``/usr/bin/chromium`` is missing (Debian's ``chromium`` package; CI installs it).
The screenshot is kept as ``build/reports/report-screenshot.png``; set
``AUTOTRADER_REPORT_SCREENSHOT=/some/file.png`` to keep a copy elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autotrader.report import write_report
from autotrader.runner import RunSummary

from .dom import ReportDom

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = Path(__file__).resolve().parents[2] / "build" / "reports"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"
)

EQUITY_BLUE = (0x45, 0x75, 0xB4)
BUY_GREEN = (0x1A, 0x98, 0x50)
SELL_RED = (0xD7, 0x30, 0x27)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@pytest.fixture(scope="module")
def report_page(full_run: RunSummary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(full_run, tmp_path_factory.mktemp("report")).html


def test_rendered_dom_has_every_chart_with_data(
    report_page: Path, full_run: RunSummary, tmp_path: Path
) -> None:
    result = chromium(tmp_path / "profile", "--dump-dom", report_page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = ReportDom(result.stdout)
    assert {"equity", "drawdown", "positions", "price-EURUSD", "latency"} <= set(dom.charts)
    for name in ("equity", "drawdown", "positions", "price-EURUSD"):
        assert dom.charts[name].polylines and dom.charts[name].polylines[0] > 10, name
    markers = dom.charts["price-EURUSD"].markers
    assert markers["buy"] > 0 and markers["sell"] > 0
    assert markers["buy"] + markers["sell"] == full_run.fills
    assert sum(dom.charts["latency"].bars) == len(full_run.fill_latencies) > 10
    assert dom.tables["oms-metrics"]["total fills"] == str(full_run.fills)
    assert "circuit state" in dom.tables["resiliency-stats"]
    assert "final equity" in result.stdout


def count_colour(pixels: object, rgb: tuple[int, int, int]) -> int:
    import numpy as np

    array = np.asarray(pixels)
    if array.dtype != np.uint8:  # matplotlib reads PNGs as floats in 0..1
        array = np.rint(array * 255).astype(np.uint8)
    target = np.array(rgb, dtype=np.int16)
    close = np.abs(array[..., :3].astype(np.int16) - target).max(axis=-1) <= 12
    return int(close.sum())


def test_screenshot_shows_the_charts(report_page: Path, tmp_path: Path) -> None:
    from matplotlib import image

    shot = tmp_path / "report.png"
    result = chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,2400", report_page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 50_000
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (2400, 1400)
    assert count_colour(pixels, EQUITY_BLUE) > 2000  # equity, positions and price lines drawn
    assert count_colour(pixels, BUY_GREEN) > 200 and count_colour(pixels, SELL_RED) > 200
    REPORTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, REPORTS / "report-screenshot.png")  # kept by every run, CI's included
    keep = os.environ.get("AUTOTRADER_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
