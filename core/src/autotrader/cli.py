"""The ``autotrader`` command (typer): ``run``, ``brokers``, ``conformance``."""

from __future__ import annotations

import importlib
import json
import logging
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autotrader.errors import AutotraderError

app = typer.Typer(
    name="autotrader",
    help="Turn a strategy's decisions into broker orders, safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    app()


# ---------------------------------------------------------------------- brokers


@app.command()
def brokers() -> None:
    """List installed broker plugins with their versions and capabilities."""
    from autotrader.plugins import BrokerRegistry, make_plugin_manager

    pm, report = make_plugin_manager()
    registry = BrokerRegistry(pm)
    table = Table(title="autotrader brokers")
    table.add_column("broker", style="bold")
    table.add_column("version")
    table.add_column("backends")
    table.add_column("capabilities")
    for spec in registry.specs():
        caps = [n for n in spec.capabilities.as_names() if not n.startswith("backend:")]
        table.add_row(
            spec.name, spec.version, ", ".join(sorted(spec.capabilities.async_backends)), " ".join(caps)
        )
    console.print(table)
    for name, problem in report.failed.items():
        err.print(f"[red]plugin {name!r} failed to load:[/red] {problem}")
    if report.skipped:
        err.print(f"not loaded (AUTOTRADER_PLUGINS allow-list): {', '.join(report.skipped)}")


# ---------------------------------------------------------------------- conformance


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def conformance(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="broker plugin to test, as `autotrader brokers` lists it")],
) -> None:
    """Run the conformance suite against a broker's local venue (extra arguments go to pytest)."""
    try:
        import pytest
    except ImportError:
        err.print("the conformance suite needs pytest: pip install 'autotrader[testing]'")
        raise typer.Exit(2) from None
    from autotrader.testing.pytest_plugin import SUITE_DIR

    args = [
        str(SUITE_DIR),
        "--autotrader-broker",
        name,
        "--rootdir",
        str(SUITE_DIR),
        "-p",
        "no:cacheprovider",
    ]
    raise typer.Exit(int(pytest.main([*args, *ctx.args])))


# ---------------------------------------------------------------------- run


def _load_strategy(spec: str | None, config_path: Path | None, initial_equity: Decimal) -> Any:
    from autotrader.strategy import StrategyConfig, TradingStrategy

    config = StrategyConfig.from_yaml(config_path) if config_path else StrategyConfig.default()
    if spec is None:
        return TradingStrategy(config, initial_equity=initial_equity)
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise typer.BadParameter("--strategy takes module:Class", param_hint="--strategy")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise typer.BadParameter(f"cannot load {spec}: {exc}", param_hint="--strategy") from None
    try:
        return cls(config, initial_equity=initial_equity)
    except TypeError:
        return cls()


def _source(data: Path | None, symbol: str | None, max_bars: int | None) -> Any:
    from autotrader import marketdata

    if data is None:
        return marketdata.bundled_dataset(limit=max_bars)
    return marketdata.open_source(data, symbol=symbol, limit=max_bars)


@app.command()
def run(
    broker: Annotated[str, typer.Option("--broker", "-b", help="broker plugin")] = "paper",
    data: Annotated[
        Path | None, typer.Option(help="OHLCV/tick CSV or Parquet (default: bundled EURUSD)")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="symbol of --data (default: the file's stem)")] = None,
    strategy: Annotated[
        str | None, typer.Option(help="module:Class (default: the reference strategy)")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="strategy YAML")] = None,
    initial_balance: Annotated[float, typer.Option(help="paper account balance")] = 100_000.0,
    commission_bps: Annotated[float, typer.Option(help="paper commission")] = 1.0,
    slippage_bps: Annotated[float, typer.Option(help="paper slippage on market orders")] = 0.5,
    seed: Annotated[int, typer.Option(help="seed of the paper venue")] = 7,
    max_bars: Annotated[int | None, typer.Option(help="stop after this many bars")] = None,
    flatten: Annotated[bool, typer.Option(help="close positions at the end")] = True,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Replay market data through a strategy and a broker (paper by default) and summarise."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        summary = anyio.run(
            _run,
            broker,
            data,
            symbol,
            strategy,
            config,
            Decimal(repr(initial_balance)),
            {"commission_bps": commission_bps, "slippage_bps": slippage_bps, "seed": seed},
            max_bars,
            flatten,
            progress and not as_json,
        )
    except AutotraderError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(_jsonable(summary), indent=2, default=str) + "\n")
        return
    table = Table(title=f"autotrader run: {broker}", show_header=False)
    for label, value in summary.table_rows():
        table.add_row(label, value)
    console.print(table)
    if summary.interrupted:
        console.print(
            "[yellow]interrupted: kill switch fired, open orders cancelled, positions closed[/yellow]"
        )


def _jsonable(summary: Any) -> dict[str, Any]:
    rows = dict(summary.table_rows())
    rows["interrupted"] = summary.interrupted
    rows["status"] = summary.status
    return rows


async def _run(
    broker: str,
    data: Path | None,
    symbol: str | None,
    strategy_spec: str | None,
    config: Path | None,
    initial_balance: Decimal,
    paper_settings: dict[str, Any],
    max_bars: int | None,
    flatten: bool,
    show_progress: bool,
) -> Any:
    from autotrader.engine import ExecutionConfig, ExecutionEngine
    from autotrader.plugins import BrokerRegistry
    from autotrader.runner import replay

    strategy = _load_strategy(strategy_spec, config, initial_balance)  # bad config fails before connecting
    source = _source(data, symbol, max_bars)
    spec = BrokerRegistry.discover().get(broker)
    settings: dict[str, Any] = {}
    if broker == "paper":
        settings = {
            "initial_balance": initial_balance,
            "latency_ms": (0, 0),
            "fill_probability": 1.0,
            **paper_settings,
        }
    adapter = spec.factory(**settings)
    engine = ExecutionEngine(
        strategy, adapter, ExecutionConfig(cycle_time_ms=0, enable_paper_trading=broker == "paper")
    )
    stop = anyio.Event()
    total = getattr(source, "length", None)
    with Progress(
        TextColumn("[bold]replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show_progress or not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("replay", total=total)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_watch_interrupt, stop)
            summary = await replay(
                engine,
                source,
                initial_equity=initial_balance,
                on_bar=lambda n: bar.update(task, completed=n),
                stop=stop,
                flatten_at_end=flatten,
            )
            tg.cancel_scope.cancel()
    return summary


async def _watch_interrupt(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return
