"""The generated plugin works as a user gets it: installed into a fresh environment, it passes the
conformance suite under asyncio and trio, its own tests pass, and it is lint- and type-clean.

The fresh environment sees the running one's packages (the core included, editable or not), so
only the generated plugin is installed into it: ``--no-deps``, exactly like a plugin author's
``pip install -e``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Sequence
from pathlib import Path

import pytest

from autotrader.scaffold import create_plugin

NAME = "scaffolded"
SLOW = 300


def _run(command: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOTRADER_PLUGINS", "PYTHONPATH")}
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _make_environment(where: Path) -> Path:
    """A venv with system site-packages plus, when we run inside a venv, that venv's packages."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(where)
    python = where / ("Scripts" if os.name == "nt" else "bin") / "python"
    if sys.prefix != sys.base_prefix:
        # --system-site-packages reaches the base interpreter, not the venv running this test;
        # addsitedir (unlike a bare path line) also runs that venv's .pth files (editable installs).
        purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], where)
        parents = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
        lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
        (Path(purelib.stdout.strip()) / "_autotrader_parent_env.pth").write_text(lines)
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python of the fresh environment, root of the generated plugin installed in it)."""
    base = tmp_path_factory.mktemp("scaffold")
    root = create_plugin(NAME, base)
    python = _make_environment(base / "env")
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = _run([*pip, "install", "-q", "--no-deps", *isolation, "-e", str(root)], base)
    assert install.returncode == 0, install.stdout + install.stderr
    return python, root


@pytest.mark.timeout(SLOW)
def test_generated_plugin_passes_the_conformance_suite_under_asyncio_and_trio(
    installed: tuple[Path, Path],
) -> None:
    python, root = installed
    result = _run([python, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--autotrader-broker", NAME], root)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert f"autotrader conformance: {NAME}" in result.stdout
    for backend in ("asyncio", "trio"):
        passed = re.findall(rf"\[{backend}\] PASSED", result.stdout)
        assert len(passed) >= 25, f"only {len(passed)} tests passed under {backend}:\n{output[-6000:]}"
    assert " FAILED" not in result.stdout and " ERROR" not in result.stdout


@pytest.mark.timeout(SLOW)
def test_generated_plugin_own_tests_pass(installed: tuple[Path, Path]) -> None:
    python, root = installed
    result = _run([python, "-m", "pytest", "-v", "-p", "no:cacheprovider"], root)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "test_conformance.py::test_conformance_suite_passes PASSED" in result.stdout
    assert "test_mapping.py::test_error_classes" in result.stdout
    assert " SKIPPED" not in result.stdout


@pytest.mark.timeout(SLOW)
def test_generated_plugin_is_lint_and_type_clean(installed: tuple[Path, Path]) -> None:
    pytest.importorskip("ruff", reason="ruff is not installed in this environment")
    pytest.importorskip("mypy", reason="mypy is not installed in this environment")
    python, root = installed
    commands: list[list[str | Path]] = [
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        [python, "-m", "mypy", "--strict", "--cache-dir", root / ".mypy_cache", "src", "tests"],
    ]
    for command in commands:
        result = _run(command, root)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
