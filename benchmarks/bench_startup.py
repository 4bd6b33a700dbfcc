"""Benchmark 6: wall time of `autotrader brokers` with every plugin installed.  Target: < 0.5 s."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from _common import header, report


def main() -> None:
    header("start-up")
    command = [shutil.which("autotrader") or "", "brokers"]
    if not command[0]:
        command = [sys.executable, "-m", "autotrader", "brokers"]
    times = []
    for _ in range(7):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    report("`autotrader brokers` wall time, median of 7", median, "s", "< 0.5", median < 0.5)


if __name__ == "__main__":
    main()
