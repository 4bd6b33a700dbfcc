"""Shared helpers for the benchmarks: timing, resident memory, and the results table."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

RESULTS_FILE = os.environ.get("AUTOTRADER_BENCH_RESULTS")


def rss_mib() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeats))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def report(figure: str, value: float, unit: str, target: str, passed: bool | None) -> None:
    """Print one row and append it to the results file (read by benchmarks/run.py)."""
    verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
    print(f"{figure:<58} {value:>14,.3f} {unit:<10} {target:<28} {verdict}")
    if RESULTS_FILE:
        with open(RESULTS_FILE, "a") as out:
            out.write(
                json.dumps(
                    {"figure": figure, "value": value, "unit": unit, "target": target, "verdict": verdict}
                )
                + "\n"
            )


def now() -> float:
    return time.perf_counter()


def header(title: str) -> None:
    print(f"\n== {title} ({sys.implementation.name} {sys.version.split()[0]})")


def unused(*_: Any) -> None:
    return None


def start_server(module: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """``python -m module --port 0 *args`` in a process of its own, as a real venue runs.

    Returns the process and the ``http://127.0.0.1:<port>`` its first line of output names.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
    if match is None:
        process.terminate()
        raise RuntimeError(f"{module} did not start")
    return process, f"http://127.0.0.1:{match.group(1)}"
