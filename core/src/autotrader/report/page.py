"""The report as one self-contained HTML page: summary figures, charts and metric tables.

Everything the page needs is inside it - styles inline, charts as inline SVG, no script, no font,
no link - and a Content-Security-Policy forbids any fetch, so it renders the same offline, from
an e-mail attachment or a CI artifact, years later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from autotrader import __version__
from autotrader.report import sections
from autotrader.report.formatting import format_metric, title_case
from autotrader.report.latency import latency_histogram
from autotrader.report.series import x_axis
from autotrader.report.svg import esc
from autotrader.runner import RunSummary

__all__ = ["render_page"]

_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733;
       background: #f4f6f9; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.meta { color: #5b6878; margin: 0 0 18px; }
.banner { background: #fff4d6; border: 1px solid #e0b84a; padding: 10px 14px; border-radius: 6px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px;
           margin: 0; }
.figures div { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 12px; }
.figures dt { color: #5b6878; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.figures dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; padding: 6px 8px; margin: 0 0 14px; }
svg.chart { display: block; width: 100%; height: auto; }
svg .chart-title { font-size: 15px; font-weight: 600; fill: #1d2733; }
svg .plot { fill: #fbfcfd; }
svg .grid { stroke: #e3e7ec; stroke-width: 1; }
svg .axis { stroke: #7a8696; stroke-width: 1; }
svg .tick, svg .legend text { font-size: 11.5px; fill: #4a5563; }
svg .axis-label { font-size: 12.5px; fill: #1d2733; }
svg .empty { font-size: 14px; fill: #7a8696; }
svg .fill { stroke: #fff; stroke-width: 0.8; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 14px;
          align-items: start; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde3ea; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eef1f4; text-align: left; }
td { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: #7a8696; margin-top: 28px; font-size: 12px; }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _table(table_id: str, caption: str, rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in rows)
    if not body:
        body = '<tr><td colspan="2">nothing recorded</td></tr>'
    return f'<table id="{esc(table_id)}"><caption>{esc(caption)}</caption>{body}</table>'


def _metric_rows(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(title_case(key), format_metric(key, value)) for key, value in values.items()]


def _engine_rows(status: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The status dict's own scalars (state, P&L...); its sections have their own tables."""
    return [
        (title_case(key), format_metric(key, value))
        for key, value in status.items()
        if not isinstance(value, (dict, list))
    ]


def _period(summary: RunSummary) -> str:
    if not summary.equity_curve:
        return "no bars"
    first, last = summary.equity_curve[0][0], summary.equity_curve[-1][0]
    return f"{first} to {last}"


def _kill_rows(summary: RunSummary) -> list[tuple[str, str]]:
    report = summary.kill_report
    if report is None:
        return [("ran", "no")]
    rows = [
        ("orders cancelled", str(len(report.cancelled))),
        ("closing orders", str(len(report.flatten_orders))),
        ("errors", str(len(report.errors))),
    ]
    rows += [(f"error {i + 1}", text) for i, text in enumerate(report.errors)]
    return rows


def _section(heading: str, *bodies: str) -> str:
    return f"<section><h2>{esc(heading)}</h2>" + "".join(bodies) + "</section>"


def _card(svg: str) -> str:
    return f'<div class="card">{svg}</div>'


def render_page(summary: RunSummary, *, generated: dt.datetime | None = None) -> str:
    """The whole report page for ``summary`` as HTML text."""
    generated = generated or dt.datetime.now(dt.UTC)
    axis = x_axis(summary)
    latency = latency_histogram(summary.fill_latencies)
    status = summary.status
    figures = "".join(
        f"<div><dt>{esc(label)}</dt><dd>{esc(value)}</dd></div>" for label, value in summary.table_rows()
    )
    title = f"autotrader run: {summary.strategy or 'strategy'} on {summary.broker or 'broker'}"
    banner = (
        '<p class="banner" id="interrupted">Interrupted: the kill switch fired, open orders were cancelled '
        "and positions closed.</p>"
        if summary.interrupted
        else ""
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body><main>",
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(summary.bars)} bars, {esc(_period(summary))}</p>{banner}',
        f'<dl class="figures" id="summary">{figures}</dl></header>',
        _section(
            "Equity",
            _card(sections.equity_chart(summary, axis)),
            _card(sections.drawdown_chart(summary, axis)),
        ),
        _section("Positions", _card(sections.positions_chart(summary, axis))),
        _section("Prices and fills", *(_card(svg) for svg in sections.price_charts(summary, axis))),
        _section(
            "Fill latency",
            _card(sections.latency_chart(latency)),
            '<div class="tables">' + _table("latency-stats", "Fill latency", latency.stats) + "</div>",
        ),
        _section(
            "Engine metrics",
            '<div class="tables">',
            _table("oms-metrics", "Order management (OMS)", _metric_rows(status.get("oms") or {})),
            _table("resiliency-stats", "Resiliency", _metric_rows(status.get("resiliency") or {})),
            _table("engine-status", "Engine at the end of the run", _engine_rows(status)),
            _table("kill-report", "Kill switch / wind-down", _kill_rows(summary)),
            "</div>",
        ),
        f"<footer>Generated {esc(generated.strftime('%Y-%m-%d %H:%M:%S UTC'))} by autotrader "
        f"{esc(__version__)}. Wall time of the run: {summary.duration_seconds:.2f} s.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)
