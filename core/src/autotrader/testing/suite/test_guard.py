"""The suite must run as shipped: its fixtures come from the suite, not from the plugin."""

from __future__ import annotations

import pytest

SUITE_FIXTURES = ("autotrader_spec", "autotrader_session", "autotrader_oms")


def test_suite_fixtures_are_not_overridden(request: pytest.FixtureRequest) -> None:
    manager = request._fixturemanager
    for name in SUITE_FIXTURES:
        definitions = manager.getfixturedefs(name, request.node)
        assert definitions, f"fixture {name} is missing"
        module = getattr(definitions[-1].func, "__module__", "")
        assert module.startswith("autotrader.testing.suite"), f"fixture {name} is overridden by {module}"
