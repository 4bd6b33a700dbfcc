"""The suite must run as shipped: its fixtures come from the suite, not from the plugin."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

SUITE_FIXTURES = ("autotrader_spec", "autotrader_session", "autotrader_oms")
SUITE_DIR = Path(__file__).resolve().parent


def test_suite_fixtures_are_not_overridden(request: pytest.FixtureRequest) -> None:
    manager = request._fixturemanager
    for name in SUITE_FIXTURES:
        definitions = manager.getfixturedefs(name, request.node)
        assert definitions, f"fixture {name} is missing"
        source = Path(inspect.getsourcefile(definitions[-1].func) or "").resolve()
        assert source.parent == SUITE_DIR, f"fixture {name} is overridden by {source}"
