"""Pointing oandapyV20 at a host: entries in ``oandapyV20.oandapyV20.TRADING_ENVIRONMENTS``.

oandapyV20 resolves its URLs from that table by environment name, so a local venue is reached
by adding an entry; ``practice`` and ``live`` always keep OANDA's real hosts.
"""

from __future__ import annotations

from typing import Final

from autotrader.errors import ConfigError
from oandapyV20 import oandapyV20 as v20

PROTECTED: Final = frozenset({"practice", "live"})


def register_environment(name: str, api_url: str, stream_url: str) -> None:
    """Add (or update) the environment ``name``; refuses to repoint practice or live."""
    if name in PROTECTED:
        raise ConfigError("oanda.environment", f"{name!r} keeps OANDA's own hosts; choose another name")
    for key, url in (("api_url", api_url), ("stream_url", stream_url)):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"oanda.{key}", f"{url!r} is not an http(s) URL")
    v20.TRADING_ENVIRONMENTS[name] = {"api": api_url.rstrip("/"), "stream": stream_url.rstrip("/")}


def rest_url(name: str) -> str:
    """The REST base URL oandapyV20 uses for the environment ``name``."""
    return str(v20.TRADING_ENVIRONMENTS[name]["api"])


def known_environment(name: str) -> bool:
    return name in v20.TRADING_ENVIRONMENTS


def unregister_environment(name: str) -> None:
    """Remove an environment added by :func:`register_environment` (never practice or live)."""
    if name not in PROTECTED:
        v20.TRADING_ENVIRONMENTS.pop(name, None)
