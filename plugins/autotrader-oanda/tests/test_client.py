"""The REST sessions take requests' environment settings once, when made, and keep them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from autotrader.errors import TransientError
from oandapyV20.endpoints import accounts

from autotrader_oanda.client import V20Client

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
REFUSING_PROXY = "http://127.0.0.1:9"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variables to begin with (the machine running the tests may have some)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def summary(client: V20Client) -> Any:
    return client.request(accounts.AccountSummary(client.config.account_id))


def test_a_proxy_in_the_environment_is_used(client: V20Client, environment: pytest.MonkeyPatch) -> None:
    environment.setenv("HTTP_PROXY", REFUSING_PROXY)
    with pytest.raises(TransientError, match="ProxyError"):
        summary(client)


def test_the_environment_is_read_when_the_session_is_made_not_per_request(
    client: V20Client, environment: pytest.MonkeyPatch
) -> None:
    assert summary(client)["account"]["currency"] == "USD"
    environment.setenv("HTTP_PROXY", REFUSING_PROXY)
    assert summary(client)["account"]["currency"] == "USD"  # the session still goes direct


def test_a_netrc_entry_for_the_host_does_not_replace_the_bearer_token(
    client: V20Client, environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n")
    netrc.chmod(0o600)
    environment.setenv("NETRC", str(netrc))
    assert summary(client)["account"]["currency"] == "USD"  # basic auth from netrc would get a 401
