"""Request authentication exactly as Binance checks it: API key, HMAC-SHA256 signature, timing.

REST: the signed payload is the raw query string (minus ``signature``) concatenated, without a
separator, to the raw form body (minus ``signature``) -- the bytes as they travelled, so a
client that signs one encoding and sends another is caught here as it would be at Binance.
WebSocket API: the payload is every ``params`` entry but ``signature``, sorted by name, joined as
``name=value`` with ``&``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Final

from autotrader_binance.venue.exchange import VenueError

__all__ = ["Credentials", "check_timing", "rest_payload", "ws_payload"]

MAX_RECV_WINDOW: Final = 60000
DEFAULT_RECV_WINDOW: Final = 5000


class Credentials:
    """The venue's API keys and their secrets (the venue is the one place that knows a secret)."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = dict(keys)

    def __repr__(self) -> str:
        return f"Credentials({len(self._keys)} key(s))"

    def check_key(self, api_key: str | None) -> str:
        """Return the key's secret, or raise Binance's 401 answer."""
        if not api_key:
            raise VenueError(-2014, "API-key format invalid.", status=401)
        secret = self._keys.get(api_key)
        if secret is None:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        return secret

    @staticmethod
    def check_signature(secret: str, payload: str, signature: str | None) -> None:
        if not signature:
            raise VenueError(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise VenueError(-1022, "Signature for this request is not valid.")


def _strip_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))


def rest_payload(raw_query: str, raw_body: str) -> str:
    return _strip_signature(raw_query) + _strip_signature(raw_body)


def ws_payload(params: Mapping[str, Any]) -> str:
    return "&".join(f"{k}={_ws_value(v)}" for k, v in sorted(params.items()) if k != "signature")


def _ws_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_timing(params: Mapping[str, Any], server_ms: int) -> None:
    """Binance's timing security: ``timestamp`` within ``recvWindow`` and not 1 s ahead."""
    raw = params.get("timestamp")
    if raw in (None, ""):
        raise VenueError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    try:
        timestamp = int(str(raw))
        window = float(str(params.get("recvWindow") or DEFAULT_RECV_WINDOW))
    except ValueError:
        raise VenueError(-1100, "Illegal characters found in a parameter.") from None
    if timestamp > 10**14:  # microseconds
        timestamp //= 1000
    if window > MAX_RECV_WINDOW:
        raise VenueError(-1131, "recvWindow must be less than 60000")
    if timestamp >= server_ms + 1000:
        raise VenueError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > window:
        raise VenueError(-1021, "Timestamp for this request is outside of the recvWindow.")
