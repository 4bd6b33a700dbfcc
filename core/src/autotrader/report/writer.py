"""Writing a run's report files: the HTML page and the equity PNG, side by side in one directory."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from autotrader.report.page import render_page
from autotrader.report.png import write_equity_png
from autotrader.runner import RunSummary

__all__ = ["HTML_NAME", "PNG_NAME", "ReportFiles", "write_report"]

HTML_NAME = "report.html"
PNG_NAME = "equity.png"


@attrs.frozen
class ReportFiles:
    """Where the report went: open ``html`` in a browser; ``png`` is the equity curve alone."""

    html: Path
    png: Path


def _write_atomically(path: Path, text: str) -> None:
    """Readers (a browser refreshing the page) never see a half-written report."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_report(summary: RunSummary, directory: Path) -> ReportFiles:
    """Write ``report.html`` and ``equity.png`` for ``summary`` into ``directory`` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=directory / HTML_NAME, png=directory / PNG_NAME)
    _write_atomically(files.html, render_page(summary))
    title = f"{summary.strategy or 'strategy'} on {summary.broker or 'broker'}"
    write_equity_png(summary.equity_curve, files.png, title=title, final_equity=summary.final_equity)
    return files
