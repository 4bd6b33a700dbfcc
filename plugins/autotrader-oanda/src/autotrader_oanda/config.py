"""Configuration of the OANDA broker: account, token (a :class:`Secret`), environment, timeouts.

``OandaConfig.from_env()`` reads ``OANDA_ACCESS_TOKEN`` and ``OANDA_ACCOUNT_ID`` (and optionally
``OANDA_ENVIRONMENT``), so a token never has to sit in a config file.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
from autotrader.credentials import Secret
from autotrader.errors import ConfigError

TOKEN_ENV = "OANDA_ACCESS_TOKEN"
ACCOUNT_ENV = "OANDA_ACCOUNT_ID"
ENVIRONMENT_ENV = "OANDA_ENVIRONMENT"


def _secret(value: Any) -> Secret:
    return value if isinstance(value, Secret) else Secret(str(value))


def _positive(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ConfigError(f"oanda.{attribute.name}", f"must be positive, got {value}")


@attrs.frozen
class OandaConfig:
    account_id: str
    access_token: Secret = attrs.field(converter=_secret)
    environment: str = "practice"
    """``practice``, ``live``, or a name registered with :func:`register_environment`."""
    api_url: str | None = None
    """With ``stream_url``: register ``environment`` to point at these hosts (e.g. a local venue)."""
    stream_url: str | None = None
    request_timeout: float = attrs.field(default=10.0, validator=_positive)
    """Read timeout of a REST call: after it, an order request's outcome is ambiguous."""
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    stream_timeout: float = attrs.field(default=12.0, validator=_positive)
    """Silence on the transaction stream after which it is reconnected (v20 beats every 5 s)."""
    reconnect_initial: float = attrs.field(default=0.25, validator=_positive)
    reconnect_max: float = attrs.field(default=10.0, validator=_positive)
    rate_limit_retry_after: float = attrs.field(default=1.0, validator=_positive)
    """Assumed wait after a 429 that carries no ``Retry-After``."""
    instruments: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """Restrict the tradable instruments (empty: all the account offers)."""

    def __attrs_post_init__(self) -> None:
        if not self.account_id:
            raise ConfigError("oanda.account_id", f"is required (or set {ACCOUNT_ENV})")
        if not self.access_token:
            raise ConfigError("oanda.access_token", f"is required (or set {TOKEN_ENV})")
        if (self.api_url is None) != (self.stream_url is None):
            raise ConfigError("oanda.api_url", "api_url and stream_url go together")

    @classmethod
    def from_env(cls, **overrides: Any) -> OandaConfig:
        """Token and account from the environment; keyword arguments win."""
        values: dict[str, Any] = {}
        if TOKEN_ENV in os.environ:
            values["access_token"] = Secret(os.environ[TOKEN_ENV])
        if ACCOUNT_ENV in os.environ:
            values["account_id"] = os.environ[ACCOUNT_ENV]
        if ENVIRONMENT_ENV in os.environ:
            values["environment"] = os.environ[ENVIRONMENT_ENV]
        values.update(overrides)
        values.setdefault("account_id", "")
        values.setdefault("access_token", Secret(""))
        return cls(**values)
