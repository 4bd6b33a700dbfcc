"""pytest plugin (entry point ``pytest11``): ``pytest --autotrader-broker NAME`` runs the suite.

It adds the option, collects :mod:`autotrader.testing.suite` from the installed package when the
option is given, gates tests on ``@pytest.mark.requires(...)`` capabilities (unknown names are
errors), refuses a suite whose tests or fixtures were replaced, and prints a per-capability
summary.  Without the option it does nothing, so it is safe to have installed everywhere.
"""

from __future__ import annotations

import collections
import inspect
from pathlib import Path
from typing import Any

import pytest

OPTION = "--autotrader-broker"
SUITE_DIR = Path(__file__).with_name("suite")
_RESULTS = pytest.StashKey[dict[str, collections.Counter[str]]]()
_CORE = "core"
_COUNTED = pytest.StashKey[str]()
"""The outcome a test was counted with in the summary (a failing teardown may change it)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autotrader", "autotrader broker conformance suite")
    group.addoption(
        OPTION,
        action="store",
        default=None,
        metavar="NAME",
        help="run the autotrader conformance suite against the installed broker plugin NAME",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*capabilities): skip unless the broker has every named capability"
    )
    broker = config.getoption(OPTION)
    if not broker:
        return
    results: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    config.stash[_RESULTS] = results
    suite = str(SUITE_DIR)
    explicit = config.args_source is pytest.Config.ArgsSource.ARGS
    if not explicit:
        config.args[:] = [suite]
    elif not any(Path(arg).resolve() == SUITE_DIR.resolve() for arg in config.args):
        config.args.append(suite)


def _broker_spec(config: pytest.Config) -> Any:
    from autotrader.plugins import BrokerRegistry

    name = config.getoption(OPTION)
    return BrokerRegistry.discover(allow=[name]).get(name)


def _in_suite(item: pytest.Item) -> bool:
    return SUITE_DIR in Path(str(item.path)).parents


def _defined_in_suite(obj: object) -> bool:
    try:
        source = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except TypeError:
        return False
    return source is not None and Path(source).resolve().is_relative_to(SUITE_DIR.resolve())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Guard: the suite runs as shipped -- its tests, its fixtures, and no skip/xfail added."""
    if not config.getoption(OPTION):
        return
    for item in items:
        if not _in_suite(item) or not isinstance(item, pytest.Function):
            continue
        if not _defined_in_suite(item.function):
            raise pytest.UsageError(
                f"conformance test {item.nodeid} was replaced: the suite must run as shipped"
            )
        for name, defs in item._fixtureinfo.name2fixturedefs.items():
            if name.startswith("autotrader_") and defs and not _defined_in_suite(defs[-1].func):
                raise pytest.UsageError(
                    f"fixture {name!r} used by {item.nodeid} is overridden: "
                    "the conformance suite's fixtures may not be replaced"
                )
        for mark in ("skip", "skipif", "xfail"):
            if item.get_closest_marker(mark) is not None:
                raise pytest.UsageError(
                    f"conformance test {item.nodeid} was marked {mark} from outside the suite; "
                    "declare missing capabilities instead"
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    marks = list(item.iter_markers("requires"))
    if not marks or not item.config.getoption(OPTION):
        return
    from autotrader.errors import UnknownCapability

    capabilities = _broker_spec(item.config).capabilities
    for mark in marks:
        for name in mark.args:
            try:
                present = capabilities.has(name)
            except UnknownCapability:
                raise pytest.UsageError(f"{item.nodeid}: unknown capability {name!r}") from None
            if not present:
                why = capabilities.reason_absent(name)
                pytest.skip(f"broker lacks capability {name}" + (f": {why}" if why else ""))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if not item.config.getoption(OPTION) or not _in_suite(item):
        return
    names = [n for mark in item.iter_markers("requires") for n in mark.args] or [_CORE]
    counts = item.config.stash[_RESULTS]
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        item.stash[_COUNTED] = report.outcome
        for name in names:
            counts[name][report.outcome] += 1
    elif report.when == "teardown" and report.failed and item.stash.get(_COUNTED, None) == "passed":
        # A harness check at exit (a venue's guard, a leaked order) fails a test that had passed.
        for name in names:
            counts[name]["passed"] -= 1
            counts[name]["failed"] += 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config.getoption(OPTION) or _RESULTS not in config.stash:
        return
    results = config.stash[_RESULTS]
    terminalreporter.section(f"autotrader conformance: {config.getoption(OPTION)}")
    width = max((len(n) for n in results), default=10)
    for name in sorted(results, key=lambda n: (n != _CORE, n)):
        counts = results[name]
        terminalreporter.write_line(
            f"  {name:<{width}}  passed {counts['passed']:>3}  failed {counts['failed']:>3}  "
            f"skipped {counts['skipped']:>3}"
        )
