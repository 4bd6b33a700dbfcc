"""Every way an oandapyV20 call fails, mapped to exactly one class of the core's taxonomy.

oandapyV20 raises:

* ``V20Error(code, body)`` for HTTP >= 400 -- without the response headers, so the client keeps
  ``Retry-After`` itself and passes it in;
* ``ValueError`` when a 2xx/3xx is not the endpoint's expected success code (``OrderCreate``
  wants 201) -- the venue answered, but not as the contract says: for an order request that is
  an :class:`AmbiguousOutcome`.  ``json.JSONDecodeError`` is also a ValueError: a torn body;
* ``requests`` exceptions for the transport: a refused connection surely did not execute
  (:class:`TransientError`); a read timeout or a dropped connection after sending may have.
"""

from __future__ import annotations

import json
from typing import Any, Final

import requests
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BrokerError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)
from oandapyV20.exceptions import V20Error

NOT_FOUND_CODES: Final = frozenset({"ORDER_DOESNT_EXIST", "NO_SUCH_ORDER", "CLIENT_ORDER_ID_DOES_NOT_EXIST"})
REJECT_KEYS: Final = ("orderRejectTransaction", "orderCancelRejectTransaction")


def error_details(body: str) -> tuple[str | None, str]:
    """``(code, message)`` from a v20 error body: ``errorCode`` or the reject's ``rejectReason``."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None, body.strip()[:200] or "no message"
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code = data.get("errorCode")
    for key in REJECT_KEYS:
        reject = data.get(key)
        if isinstance(reject, dict) and reject.get("rejectReason"):
            code = code or reject["rejectReason"]
    message = str(data.get("errorMessage") or code or "no message")
    return (str(code) if code else None), message


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def map_v20_error(
    error: V20Error, *, what: str, mutating: bool, retry_after: float | None, default_retry_after: float
) -> BrokerError:
    """The core error for an HTTP error answer from v20."""
    status = int(error.code)
    code, message = error_details(str(error.msg))
    text = f"{what}: HTTP {status}" + (f" {code}" if code else "") + f": {message}"
    if status == 429:
        return RateLimited(text, retry_after=retry_after or default_retry_after, code=status)
    if status in (401, 403):
        return AuthenticationError(f"{what}: HTTP {status}: the access token was refused", code=status)
    if status == 404 and (code in NOT_FOUND_CODES or code is None):
        return OrderNotFound(text, code=code or status)
    if status >= 500:
        if mutating:
            return AmbiguousOutcome(text, code=status)
        return TransientError(text, code=status)
    if mutating and status in (400, 404, 409):
        if status == 404:
            return OrderNotFound(text, code=code or status)
        return OrderRejected(text, code=code or status)
    return BrokerError(text, code=code or status)


def map_value_error(error: ValueError, *, what: str, mutating: bool, body: Any) -> BrokerError:
    """A success code other than the expected one, or a body that is not JSON."""
    if isinstance(error, json.JSONDecodeError):
        text = f"{what}: the venue's answer is not JSON ({error.msg})"
    else:
        text = f"{what}: unexpected success code ({error})"
    if mutating:
        return AmbiguousOutcome(text, code="UNEXPECTED_RESPONSE")
    return TransientError(text, code="UNEXPECTED_RESPONSE")


def _connection_refused(error: requests.RequestException) -> bool:
    """True when the request never left: refused, unreachable, name not resolved, connect timeout."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.exceptions.ConnectionError):
        return False
    reason = error.args[0] if error.args else None
    inner = getattr(reason, "reason", None)
    names = {type(reason).__name__, type(inner).__name__}
    return bool(names & {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"})


def map_transport_error(error: requests.RequestException, *, what: str, mutating: bool) -> BrokerError:
    name = type(error).__name__
    if _connection_refused(error):
        return TransientError(f"{what}: could not connect ({name}); nothing was sent")
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return BrokerError(f"{what}: bad URL ({name})")
    if mutating:
        return AmbiguousOutcome(f"{what}: no answer ({name}); the request may have executed")
    return TransientError(f"{what}: no answer ({name})")
