"""Instructions per order on the engine's order path, counted by callgrind (valgrind).

Wall-clock figures move with whatever else the machine runs; instruction counts do not, so they
are what the profile-driven changes of the order path were measured with.  The script runs
``bench_order_path.engine_run`` for N and 3N orders under callgrind and prints
``(Ir(3N) - Ir(N)) / 2N``: start-up and warm-up cancel out.  Journal off by default; with
``--journal`` the SQLite journal is on and its checkpoint thread is slowed down to once an hour,
since under valgrind a time-based thread would run fifty times as often as it really does.

Run: ``python benchmarks/instructions_per_order.py [--orders 1000] [--journal]`` (needs valgrind:
``apt-get install valgrind``).  Not part of ``nox -s bench``: it takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_RUN = """
import logging, sys, tempfile
from pathlib import Path
sys.path.insert(0, {here!r})
logging.disable(logging.WARNING)
import anyio
import autotrader.journal as journal
import bench_order_path

if {journal!r}:
    start = journal._Checkpointer.__init__
    journal._Checkpointer.__init__ = lambda self, path, interval: start(self, path, 3600.0)
path = Path(tempfile.mkdtemp()) / "journal.sqlite" if {journal!r} else None
anyio.run(bench_order_path.engine_run, {orders}, path)
"""


def instructions(orders: int, journal: bool) -> int:
    """Instructions callgrind counted for a whole run of ``orders`` orders."""
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={os.path.join(scratch, 'callgrind.out')}",
                sys.executable,
                "-c",
                _RUN.format(here=str(HERE), journal=journal, orders=orders),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--journal", action="store_true", help="with the SQLite journal on")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    small, large = instructions(args.orders, args.journal), instructions(3 * args.orders, args.journal)
    per_order = (large - small) / (2 * args.orders)
    print(f"instructions per order, journal {'on' if args.journal else 'off'}: {per_order:,.0f}")


if __name__ == "__main__":
    main()
