"""Run every benchmark (each in its own process) and print one table of figure, target, pass/fail.

Used by ``nox -s bench``; extra arguments are not forwarded (each script has its own defaults).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ["bench_order_path.py", "bench_oms_scale.py", "bench_memory.py", "bench_startup.py"]


def main() -> int:
    scripts = [HERE / name for name in ORDER] + sorted(p for p in HERE.glob("bench_wire_*.py"))
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as results:
        path = results.name
    env = {**os.environ, "AUTOTRADER_BENCH_RESULTS": path}
    failures = 0
    for script in scripts:
        completed = subprocess.run([sys.executable, str(script)], env=env, cwd=HERE, check=False)
        failures += completed.returncode != 0
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    os.unlink(path)
    width = max(len(r["figure"]) for r in rows)
    print(f"\n{'figure':<{width}}  {'value':>14} {'unit':<10} {'target':<26} result")
    for r in rows:
        print(
            f"{r['figure']:<{width}}  {r['value']:>14,.3f} {r['unit']:<10} {r['target']:<26} {r['verdict']}"
        )
    met = sum(r["verdict"] == "PASS" for r in rows)
    missed = sum(r["verdict"] == "FAIL" for r in rows)
    print(f"\n{met} targets met, {missed} missed, {failures} scripts failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
