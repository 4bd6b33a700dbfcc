"""Check the built distributions' metadata: what a user's pip and PyPI will see.

Usage: ``python scripts/check_dists.py build/dist`` (the ``wheels`` nox session runs it).  Every
distribution must come as a wheel and an sdist of the same version, say MIT with the licence
text inside, carry classifiers, a Python floor and its README, ship ``py.typed``, and every
broker plugin must register in the ``autotrader`` entry-point group.  Exits 1 listing every
problem.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path


def wheel_problems(wheel: Path) -> list[str]:
    name, version = wheel.name.split("-")[:2]
    package = name.replace("-", "_")
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
        info = f"{name}-{version}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = (
            archive.read(f"{info}/entry_points.txt").decode() if f"{info}/entry_points.txt" in files else ""
        )
    problems = []
    if metadata.get("License-Expression") != "MIT":
        problems.append(f"License-Expression is {metadata.get('License-Expression')!r}, not 'MIT'")
    if not any(f.startswith(f"{info}/licenses/") for f in files):
        problems.append("no licence file in the wheel")
    if not metadata.get_all("Classifier"):
        problems.append("no classifiers")
    if not metadata.get("Requires-Python"):
        problems.append("no Requires-Python")
    if len(metadata.get_payload() or "") < 200:
        problems.append("no README as the long description")
    if f"{package}/py.typed" not in files:
        problems.append(f"{package}/py.typed missing")
    if package != "autotrader" and "[autotrader]" not in entry_points:
        problems.append("no entry point in the 'autotrader' group")
    return [f"{wheel.name}: {p}" for p in problems]


def main(directory: str) -> int:
    dist = Path(directory)
    wheels = sorted(dist.glob("*.whl"))
    problems = [] if wheels else [f"no wheels in {dist}"]
    for wheel in wheels:
        problems += wheel_problems(wheel)
        name, version = wheel.name.split("-")[:2]
        sdist = dist / f"{name}-{version}.tar.gz"
        if not sdist.exists():
            problems.append(f"{wheel.name}: no sdist {sdist.name}")
            continue
        with tarfile.open(sdist) as archive:
            if not any(m.name.endswith("/LICENSE") for m in archive.getmembers()):
                problems.append(f"{sdist.name}: no LICENSE")
    for problem in problems:
        print(problem)
    print(f"{len(wheels)} wheels checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/dist"))
