"""Lint, types, unit tests, and the conformance suite for every broker plugin (``nox``).

Plugins are tested from built wheels, installed into a fresh environment the way a user gets
them, and discovered through their entry points.  ``nox -s bench`` runs the benchmarks (not
part of the default run).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CORE = ROOT / "core"
PLUGINS = {
    path.name.removeprefix("autotrader-"): path
    for path in sorted((ROOT / "plugins").glob("autotrader-*"))
    if (path / "pyproject.toml").exists()
}
# Plugins whose conformance run is part of the default `nox` (the others still have sessions).
CONFORMANCE = [name for name in ("paper", "binance", "oanda", "ibkr") if name in PLUGINS]
DIST = ROOT / "build" / "dist"
TEST_DEPS = ["pytest>=8.2", "pytest-timeout>=2.3", "hypothesis>=6.100", "trio>=0.25", "anyio>=4.4"]
CORE_EXTRAS = f"{CORE}[postgres,parquet]"

nox.options.sessions = [
    "lint",
    "types",
    "docs",
    "tests",
    "wheels",
    *[f"conformance-{n}" for n in CONFORMANCE],
]
if "ibkr" in PLUGINS:  # the IBKR plugin again on ib_insync, in an environment of its own
    nox.options.sessions.append("conformance-ibkr-ib_insync")
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True
os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting of everything."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "core", "tests", "noxfile.py")


@nox.session
def types(session: nox.Session) -> None:
    """mypy --strict on the core and every plugin: their sources and their tests."""
    session.install("mypy>=1.11", "types-PyYAML", *TEST_DEPS, "-e", CORE_EXTRAS)
    for path in PLUGINS.values():
        session.install("-e", str(path))
    session.run("mypy", "core/src")
    session.run("mypy", "tests")
    for path in PLUGINS.values():
        session.run("mypy", str(path / "src"))
        session.run("mypy", str(path / "tests"))


@nox.session
def docs(session: nox.Session) -> None:
    """The Sphinx documentation, API reference from docstrings; any warning fails the build."""
    session.install("sphinx>=7.3", "furo>=2024.1", *TEST_DEPS, "-e", CORE_EXTRAS, "-e", str(PLUGINS["paper"]))
    session.run(
        "sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs", str(ROOT / "build" / "docs")
    )


def _chromium(session: nox.Session) -> None:
    """Debian's headless Chromium for the report's browser test, installed when we may (root)."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() != 0:
        session.warn("not root: the report's browser test will skip (apt-get install chromium)")
        return
    session.run("bash", str(ROOT / "scripts" / "chromium-for-tests.sh"), external=True, silent=True)


def _postgres_url(session: nox.Session) -> str | None:
    """A PostgreSQL for the journal tests: the given URL, or the machine's server started on loopback."""
    url = os.environ.get("AUTOTRADER_TEST_POSTGRES_URL")
    if url:
        return url
    if os.geteuid() != 0:
        session.warn("not root: PostgreSQL journal tests will skip (set AUTOTRADER_TEST_POSTGRES_URL)")
        return None
    output = session.run("bash", str(ROOT / "scripts" / "postgres-for-tests.sh"), external=True, silent=True)
    return str(output).strip().splitlines()[-1]


@nox.session
def tests(session: nox.Session) -> None:
    """Core unit, property and integration tests, then each plugin's own tests."""
    _chromium(session)
    postgres = _postgres_url(session)
    if postgres:
        session.env["AUTOTRADER_TEST_POSTGRES_URL"] = postgres
    # ruff and mypy: the generated-plugin test checks that a new plugin is lint- and type-clean.
    session.install(*TEST_DEPS, "ruff>=0.6", "mypy>=1.11", "-e", CORE_EXTRAS)
    for path in PLUGINS.values():
        session.install("-e", str(path))
    session.run("pytest", "tests", *session.posargs)
    for path in PLUGINS.values():
        if (path / "tests").is_dir():
            session.run("pytest", str(path / "tests"), "--rootdir", str(path), *session.posargs)


def _build_wheels(session: nox.Session) -> list[Path]:
    session.install("build>=1.2")
    DIST.mkdir(parents=True, exist_ok=True)
    for old in DIST.glob("*"):
        old.unlink()
    for path in [CORE, *PLUGINS.values()]:
        session.run(
            "python", "-m", "build", "--wheel", "--sdist", "--outdir", str(DIST), str(path), silent=True
        )
    return sorted(DIST.glob("*.whl"))


@nox.session
def wheels(session: nox.Session) -> None:
    """Build every wheel and sdist, install the wheels fresh, prove entry-point discovery."""
    built = _build_wheels(session)
    session.run("python", str(ROOT / "scripts" / "check_dists.py"), str(DIST))
    session.install(*[str(w) for w in built])
    output = session.run("autotrader", "brokers", silent=True) or ""
    for name in PLUGINS:
        if name not in output:
            session.error(f"broker {name!r} not discovered from its installed wheel:\n{output}")
    session.log(output)


def _newest_source(project: Path) -> float:
    files = [project / "pyproject.toml", project / "README.md", *(project / "src").rglob("*")]
    return max(f.stat().st_mtime for f in files if f.is_file())


def _current(wheel: Path | None, project: Path) -> bool:
    """A wheel built after its project's last change (a stale one would test old code)."""
    return wheel is not None and wheel.stat().st_mtime >= _newest_source(project)


def _wheels(session: nox.Session, name: str) -> tuple[Path, Path]:
    """The built core and plugin wheels (built now if missing or older than their sources)."""
    core_wheel = next(DIST.glob("autotrader-*.whl"), None)
    plugin_wheel = next(DIST.glob(f"autotrader_{name}-*.whl"), None)
    if not (_current(core_wheel, CORE) and _current(plugin_wheel, PLUGINS[name])):
        _build_wheels(session)
        core_wheel = next(DIST.glob("autotrader-*.whl"))
        plugin_wheel = next(DIST.glob(f"autotrader_{name}-*.whl"))
    return core_wheel, plugin_wheel


def _conformance(session: nox.Session, name: str) -> None:
    session.install(*TEST_DEPS)
    core_wheel, plugin_wheel = _wheels(session, name)
    session.install(str(core_wheel), str(plugin_wheel))
    session.chdir(session.create_tmp())  # run from the installed wheels, not the source tree
    session.run("autotrader", "conformance", name, *session.posargs)


for _name in PLUGINS:

    @nox.session(name=f"conformance-{_name}")
    def _conformance_session(session: nox.Session, _plugin: str = _name) -> None:
        """Run the conformance suite against the plugin's local venue, from built wheels."""
        _conformance(session, _plugin)


@nox.session(name="conformance-ibkr-ib_insync")
def conformance_ibkr_ib_insync(session: nox.Session) -> None:
    """The IBKR plugin on ib_insync 0.9.86 instead of ib_async: conformance run and its own tests.

    The two libraries cannot share an environment (both install the ``eventkit`` package), so
    this installs the plugin wheel without its dependencies, then its other requirements and
    ib_insync -- the route the plugin's README gives ib_insync users -- and insists on ib_insync.
    """
    plugin = PLUGINS["ibkr"]
    requirements = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]["dependencies"]
    others = [r for r in requirements if re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] != "ib_async"]
    core_wheel, plugin_wheel = _wheels(session, "ibkr")
    # the plugin's live-run test paper-trades on the local TWS's quotes (--broker paper --feed ibkr)
    paper = [str(_wheels(session, "paper")[1])] if "paper" in PLUGINS else []
    session.install(*TEST_DEPS, str(core_wheel), *others, "ib_insync==0.9.86", *paper)
    session.install("--no-deps", str(plugin_wheel))
    session.env["AUTOTRADER_IBKR_LIBRARY"] = "ib_insync"
    session.run("python", "-c", "import importlib.util as u; assert u.find_spec('ib_async') is None")
    session.chdir(session.create_tmp())  # run from the installed wheels, not the source tree
    session.run("autotrader", "conformance", "ibkr", *session.posargs)
    session.run("pytest", str(plugin / "tests"), "--rootdir", str(plugin), "-p", "no:cacheprovider")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks (not part of the default run)."""
    session.install(
        "-e", str(CORE), *[arg for p in PLUGINS.values() for arg in ("-e", str(p))], "trio", "uvloop"
    )
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
