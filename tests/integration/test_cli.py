"""The `autotrader` command as a user runs it: brokers, run (the main job), config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def autotrader(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autotrader", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=ENV,
    )


def test_brokers_lists_the_paper_plugin() -> None:
    result = autotrader("brokers")
    assert result.returncode == 0, result.stderr
    assert "paper" in result.stdout and "order_type:STOP_LIMIT" in result.stdout


def test_run_replays_bundled_data_and_summarises() -> None:
    result = autotrader("run", "--max-bars", "800", "--json", "--no-progress")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["bars replayed"] == "800"
    assert int(summary["orders"]) > 0 and int(summary["fills"]) > 0
    assert summary["status"]["positions"] == {}  # flattened at the end
    assert summary["status"]["trading_state"] == "ACTIVE"


def test_run_table_output() -> None:
    result = autotrader("run", "--max-bars", "200", "--no-progress")
    assert result.returncode == 0, result.stderr
    for label in ("orders", "fills", "fill rate", "net P&L", "fees", "max drawdown"):
        assert label in result.stdout


def test_bad_strategy_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("position_sizing:\n  base_size_pct: 7\n")
    result = autotrader("run", "--strategy-config", str(bad), "--max-bars", "10", "--no-progress")
    assert result.returncode != 0
    assert "position_sizing.base_size_pct" in result.stderr


def test_unknown_broker_says_what_is_installed() -> None:
    result = autotrader("run", "--broker", "nosuch", "--max-bars", "10", "--no-progress")
    assert result.returncode != 0
    assert "installed:" in result.stderr and "paper" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["conformance", "--help"]])
def test_help(args: list[str]) -> None:
    assert autotrader(*args).returncode == 0


def test_ctrl_c_fires_the_kill_switch_and_still_summarises(tmp_path: Path) -> None:
    import signal
    import time

    data = tmp_path / "long.csv"
    lines = ["timestamp,price"]
    price = 100.0
    for i in range(300_000):
        price += 0.01 if (i * 7919) % 13 < 7 else -0.01
        lines.append(f"2020-01-01T00:00:{i % 60:02d}+00:00,{price:.2f}")
    data.write_text("\n".join(lines))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autotrader",
            "run",
            "--data",
            str(data),
            "--symbol",
            "AAPL",
            "--json",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    time.sleep(3)
    assert process.poll() is None, "the replay ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert summary["status"]["trading_state"] == "HALTED"
    assert summary["status"]["positions"] == {}
    assert int(summary["bars replayed"]) < 300_000


def _waves(path: Path, bars: int) -> Path:
    """A price swinging 5% around 100 every 250 bars or so: the reference strategy trades it often."""
    import math

    lines = ["timestamp,price"]
    lines += [f"2020-01-01T00:00:{i % 60:02d}+00:00,{100 + 5 * math.sin(i / 40):.2f}" for i in range(bars)]
    path.write_text("\n".join(lines))
    return path


def test_paper_run_killed_with_sigkill_resumes_against_the_same_venue(tmp_path: Path) -> None:
    """With a journal, the paper venue's books live next to it, so --resume meets the venue that
    the journal's orders went to: nothing to close as absent, no position difference."""
    import signal
    import sqlite3
    import time

    data = _waves(tmp_path / "waves.csv", 300_000)
    journal = tmp_path / "state.sqlite"
    common = ["--data", str(data), "--symbol", "AAPL", "--journal", str(journal), "--no-progress", "--json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "autotrader", "run", *common],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    fills = 0
    while fills < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if journal.exists():
            with sqlite3.connect(journal) as db:
                fills = db.execute("SELECT count(*) FROM events WHERE kind = 'fill'").fetchone()[0]
    assert fills >= 3 and process.poll() is None, "the run should be trading when it is killed"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert (tmp_path / "state.paper-venue.sqlite").exists()

    resumed = autotrader("run", *common, "--resume", "--max-bars", "5", "--log-level", "WARNING")
    assert resumed.returncode == 0, resumed.stderr
    (line,) = [x for x in resumed.stderr.splitlines() if "resumed from" in x]
    assert "closed_absent=()" in line and "position_differences={}" in line, line
    assert "restored_fills=0," not in line

    refused = autotrader("run", *common, "--resume", "--set", "broker_config.state_file=")
    assert refused.returncode != 0 and "broker_config.state_file" in refused.stderr
