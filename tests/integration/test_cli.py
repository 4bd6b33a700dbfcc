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
    result = autotrader("run", "--max-bars", "800", "--json", "--no-progress", "--no-report")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["bars replayed"] == "800"
    assert int(summary["orders"]) > 0 and int(summary["fills"]) > 0
    assert summary["status"]["positions"] == {}  # flattened at the end
    assert summary["status"]["trading_state"] == "ACTIVE"
    assert summary["report"] is None


def test_run_writes_the_report_by_default(tmp_path: Path) -> None:
    result = autotrader("run", "--max-bars", "300", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = tmp_path / "autotrader-report" / "report.html"
    png = tmp_path / "autotrader-report" / "equity.png"
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.as_uri() in result.stdout.replace("\n", "")


def test_unwritable_report_directory_still_prints_the_summary(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = autotrader("run", "--max-bars", "100", "--no-progress", "--report", str(blocker / "r"))
    assert result.returncode == 0, result.stderr
    assert "report not written" in result.stderr
    assert "net P&L" in result.stdout


def test_new_plugin_writes_a_skeleton_and_refuses_bad_names(tmp_path: Path) -> None:
    result = autotrader("new-plugin", "mybroker", "--dest", str(tmp_path))
    assert result.returncode == 0, result.stderr
    root = tmp_path / "autotrader-mybroker"
    assert (root / "pyproject.toml").is_file()
    assert (root / "src" / "autotrader_mybroker" / "venue.py").is_file()
    assert (root / ".github" / "workflows" / "conformance.yml").is_file()
    again = autotrader("new-plugin", "mybroker", "--dest", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = autotrader("new-plugin", "My-Broker", "--dest", str(tmp_path))
    assert bad.returncode == 1 and "invalid plugin name" in bad.stderr


def test_run_table_output() -> None:
    result = autotrader("run", "--max-bars", "200", "--no-progress", "--no-report")
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
            "--report",
            str(tmp_path / "report"),
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
    assert Path(summary["report"]["html"]).is_file(), "Ctrl-C must still write the report"


def test_status_folds_a_runs_journal(tmp_path: Path) -> None:
    journal = tmp_path / "state.sqlite"
    ran = autotrader(
        "run", "--max-bars", "400", "--json", "--no-progress", "--no-report", "--journal", str(journal)
    )
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)
    result = autotrader("status", "--journal", str(journal), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["source"] == "journal"
    assert status["oms"]["total_orders"] == int(summary["orders"]) > 0
    assert status["oms"]["total_fills"] == int(summary["fills"])
    assert status["oms"]["open_orders"] == 0 and status["positions"] == {}
    assert status["resiliency"]["dlq_size"] == 0
    table = autotrader("status", "--journal", str(journal))
    assert table.returncode == 0 and "oms.total_fills" in table.stdout


def test_status_of_a_missing_journal_is_an_error_not_an_empty_engine(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite"
    result = autotrader("status", "--journal", str(missing))
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert not missing.exists()


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
    common.append("--no-report")
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
                try:
                    fills = db.execute("SELECT count(*) FROM events WHERE kind = 'fill'").fetchone()[0]
                except sqlite3.OperationalError:  # the file exists, its schema not yet
                    continue
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
