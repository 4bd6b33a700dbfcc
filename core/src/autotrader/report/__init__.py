"""The report of a run: one self-contained HTML page (inline SVG charts) and a PNG of the equity curve.

``write_report(summary, directory)`` is all a caller needs; the modules behind it each do one job:
:mod:`.ticks` and :mod:`.downsample` (axis ticks, thinning long series), :mod:`.svg` (chart
drawing), :mod:`.series`, :mod:`.fills` and :mod:`.latency` (what the charts show),
:mod:`.sections` (one chart each), :mod:`.page` (the HTML), :mod:`.png` (matplotlib, imported
only when a PNG is drawn).
"""

from __future__ import annotations

from autotrader.report.writer import ReportFiles, write_report

__all__ = ["ReportFiles", "write_report"]
