"""The ``autotrader`` command (typer): ``run``, ``brokers``, ``conformance``, ``chaos``, ``status``,
``config check`` and ``new-plugin``."""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autotrader.errors import AutotraderError

if TYPE_CHECKING:
    from autotrader.report import ReportFiles
    from autotrader.runner import RunSummary

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


# ---------------------------------------------------------------------- chaos


@app.command()
def chaos(
    name: Annotated[str, typer.Argument(help="broker plugin whose local venue to run against")],
    orders: Annotated[int, typer.Option(help="orders to place")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed (runs are reproducible)")] = 1,
    fault_every: Annotated[int, typer.Option(help="arm a random fault every N orders")] = 10,
) -> None:
    """Soak a broker's local venue with orders and random faults; fail on any loss or duplicate."""
    import anyio

    from autotrader.plugins import BrokerRegistry
    from autotrader.testing.chaos import run_chaos

    spec = BrokerRegistry.discover(allow=[name]).get(name)
    report = anyio.run(lambda: run_chaos(spec, orders=orders, seed=seed, fault_every=fault_every))
    for line in report.lines():
        console.print(line)
    if not report.clean:
        err.print("[red]chaos run found divergence[/red]")
        raise typer.Exit(1)


# ---------------------------------------------------------------------- run


def _load_run_config(ctx: typer.Context, value: Path | None) -> Path | None:
    """Eager ``--config``: the file's flat keys become click's defaults (flags and env still win)."""
    if value is None:
        return None
    from autotrader.runconfig import SECTIONS, load_file

    try:
        data = load_file(value)
    except AutotraderError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None
    ctx.default_map = {**(ctx.default_map or {}), **{k: v for k, v in data.items() if k not in SECTIONS}}
    ctx.meta["run_config_sections"] = {k: v for k, v in data.items() if k in SECTIONS}
    return value


def _env(name: str) -> str:
    return f"AUTOTRADER_{name.upper()}"


@app.command()
def run(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="run configuration YAML",
            is_eager=True,
            callback=_load_run_config,
            envvar=_env("config"),
        ),
    ] = None,
    broker: Annotated[
        str, typer.Option("--broker", "-b", help="broker plugin", envvar=_env("broker"))
    ] = "paper",
    data: Annotated[
        Path | None,
        typer.Option(help="OHLCV/tick CSV or Parquet (default: bundled EURUSD)", envvar=_env("data")),
    ] = None,
    symbol: Annotated[
        str | None,
        typer.Option(
            help="symbol of --data (default: file stem); live: the symbols, comma-separated",
            envvar=_env("symbol"),
        ),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="module:Class (default: reference strategy)", envvar=_env("strategy"))
    ] = None,
    strategy_file: Annotated[
        Path | None,
        typer.Option(
            "--strategy-config", help="strategy YAML (the seed's format)", envvar=_env("strategy_file")
        ),
    ] = None,
    initial_balance: Annotated[
        str, typer.Option(help="paper account balance", envvar=_env("initial_balance"))
    ] = "100000",
    commission_bps: Annotated[
        str, typer.Option(help="paper commission", envvar=_env("commission_bps"))
    ] = "1",
    slippage_bps: Annotated[str, typer.Option(help="paper slippage", envvar=_env("slippage_bps"))] = "0.5",
    seed: Annotated[int, typer.Option(help="seed of the paper venue", envvar=_env("seed"))] = 7,
    max_bars: Annotated[
        int | None, typer.Option(help="stop after this many bars", envvar=_env("max_bars"))
    ] = None,
    flatten: Annotated[bool, typer.Option(help="close positions at the end", envvar=_env("flatten"))] = True,
    journal: Annotated[
        Path | None,
        typer.Option(
            help="SQLite journal file (the paper broker keeps its venue's books next to it)",
            envvar=_env("journal"),
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="rebuild from the journal and reconcile first", envvar=_env("resume"))
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve /metrics and /status on 127.0.0.1:PORT", envvar=_env("metrics_port")),
    ] = None,
    status_file: Annotated[
        Path | None,
        typer.Option(help="keep the status JSON here (for `autotrader status`)", envvar=_env("status_file")),
    ] = None,
    live: Annotated[
        bool, typer.Option(help="trade on the broker's live quotes instead of a replay", envvar=_env("live"))
    ] = False,
    feed: Annotated[
        str | None,
        typer.Option(
            help="take live quotes from this broker plugin (e.g. paper on oanda)", envvar=_env("feed")
        ),
    ] = None,
    bar_seconds: Annotated[
        float, typer.Option(help="live: one bar every N seconds (0: every quote)", envvar=_env("bar_seconds"))
    ] = 1.0,
    log_format: Annotated[str, typer.Option(help="text or json", envvar=_env("log_format"))] = "text",
    log_level: Annotated[str, typer.Option(help="logging level", envvar=_env("log_level"))] = "ERROR",
    set_: Annotated[list[str] | None, typer.Option("--set", help="section.key=value (repeatable)")] = None,
    report_dir: Annotated[
        Path,
        typer.Option(
            "--report",
            help="write report.html and equity.png into this directory",
            envvar=_env("report_dir"),
        ),
    ] = Path("autotrader-report"),
    no_report: Annotated[bool, typer.Option("--no-report", help="write no report files")] = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Replay market data through a strategy and a broker (paper by default) and summarise."""
    import anyio

    from autotrader.launch import RunSettings, launch
    from autotrader.model import decimal_from_user
    from autotrader.observe import configure_logging
    from autotrader.runconfig import merge_overrides

    try:
        configure_logging(log_format, log_level)
        sections = merge_overrides(ctx.meta.get("run_config_sections", {}), set_ or [])
        settings = RunSettings(
            broker=broker,
            data=data,
            symbol=symbol,
            strategy=strategy,
            strategy_file=strategy_file,
            strategy_config=sections.get("strategy_config", {}),
            initial_balance=decimal_from_user(initial_balance, "initial_balance"),
            commission_bps=decimal_from_user(commission_bps, "commission_bps"),
            slippage_bps=decimal_from_user(slippage_bps, "slippage_bps"),
            seed=seed,
            max_bars=max_bars,
            flatten=flatten,
            journal=journal,
            resume=resume,
            metrics_port=metrics_port,
            status_file=status_file,
            live=live,
            feed=feed,
            bar_seconds=bar_seconds,
            feed_config=sections.get("feed_config", {}),
            broker_config=sections.get("broker_config", {}),
            execution=sections.get("execution", {}),
            risk=sections.get("risk", {}),
        )
        with _progress(enabled=progress and not as_json) as advance:
            summary = anyio.run(lambda: launch(settings, on_bar=advance))
    except (AutotraderError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    files = None if no_report else _write_report(summary, report_dir)
    if as_json:
        rows = _jsonable(summary)
        rows["report"] = None if files is None else {"html": str(files.html), "png": str(files.png)}
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    table = Table(title=f"autotrader run: {broker}", show_header=False)
    for label, value in summary.table_rows():
        table.add_row(label, value)
    console.print(table)
    if summary.interrupted:
        console.print(
            "[yellow]interrupted: kill switch fired, open orders cancelled, positions closed[/yellow]"
        )
    if files is not None:
        console.print(f"report: {files.html.resolve().as_uri()}  (equity curve: {files.png})")


def _write_report(summary: RunSummary, directory: Path) -> ReportFiles | None:
    """The run's report files, or ``None`` (with a message) when they cannot be written.

    The run itself is over by now and its summary still prints: a full disk or a read-only
    directory must not hide the outcome of a run behind a traceback.
    """
    from autotrader.report import write_report

    try:
        return write_report(summary, directory)
    except OSError as exc:
        err.print(f"[red]report not written:[/red] {exc}")
        return None


@contextlib.contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("[bold]replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled or not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("replay", total=None)
        yield lambda n: bar.update(task, completed=n)


def _jsonable(summary: Any) -> dict[str, Any]:
    rows: dict[str, Any] = dict(summary.table_rows())
    rows["interrupted"] = summary.interrupted
    rows["status"] = summary.status
    return rows


# ---------------------------------------------------------------------- new-plugin


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="broker name: lowercase letters, digits, underscores")],
    destination: Annotated[
        Path, typer.Option("--dest", "-d", help="folder in which autotrader-NAME/ is created")
    ] = Path(),
) -> None:
    """Write a working broker plugin skeleton that passes the conformance suite as generated."""
    from autotrader.scaffold import create_plugin

    try:
        root = create_plugin(name, destination)
    except AutotraderError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"[green]created[/green] {root}")
    console.print(
        f"next:\n  pip install -e {root}\n  autotrader conformance {name}\n"
        f"then replace the in-memory venue in {root}/src/autotrader_{name}/venue.py "
        "with a simulator of your broker's wire protocol (see its README)"
    )


# ---------------------------------------------------------------------- status


@app.command()
def status(
    file: Annotated[
        Path | None, typer.Option("--file", help="status file written by `run --status-file`")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="read http://127.0.0.1:PORT/status")] = None,
    journal: Annotated[
        str | None, typer.Option("--journal", help="fold the status from a run's journal (path or URL)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a running engine's status (the seed's status dict), from its endpoint, file or journal."""
    from autotrader.journal_status import journal_status
    from autotrader.observe import read_status

    try:
        if port is not None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
                data = json.loads(response.read())
        elif file is not None:
            data = read_status(file)
        elif journal is not None:
            data = json.loads(json.dumps(journal_status(journal), default=str))
        else:
            raise typer.BadParameter("give --port, --file or --journal")
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] cannot read the status: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title="autotrader status", show_header=False)
    for key in ("connected", "running", "broker", "trading_state", "strategy_status", "strategy_equity"):
        if key in data:
            table.add_row(key, str(data[key]))
    for key in ("journal", "last_event_seq", "realized_pnl"):
        if key in data:
            table.add_row(key, str(data[key]))
    for symbol, quantity in (data.get("positions") or {}).items():
        table.add_row(f"position.{symbol}", str(quantity))
    for section in ("oms", "resiliency"):
        for key, value in (data.get(section) or {}).items():
            table.add_row(f"{section}.{key}", str(value))
    console.print(table)


# ---------------------------------------------------------------------- config

config_app = typer.Typer(help="Configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="run or strategy configuration YAML")]) -> None:
    """Validate a configuration file; every problem names its key."""
    from autotrader.runconfig import check_file

    try:
        kind = check_file(file)
    except AutotraderError as exc:
        err.print(f"[red]invalid:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"[green]ok:[/green] {file} is a valid {kind}")
