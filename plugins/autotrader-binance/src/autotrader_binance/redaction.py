"""Keep the API key out of the client libraries' debug logs.

At DEBUG, websockets logs every frame it sends, and passes the frame object itself as a log
argument: the ``userDataStream.subscribe.signature`` request carries the API key in clear, so a
handler that formats or stores arguments (a JSON log formatter) would write it out.  A filter on
those loggers renders each record's message once, masks every credential of a connected adapter
in it and drops the arguments.  Filters run only for records that pass the logger's level, so
this costs nothing unless DEBUG logging is on.
"""

from __future__ import annotations

import collections
import logging
from typing import Final

__all__ = ["LIBRARY_LOGGERS", "MASK", "CredentialRedactor", "redactor"]

MASK: Final = "**********"
LIBRARY_LOGGERS: Final = (
    "websockets.client",
    "websockets.protocol",
    "binance.base_client",
    "binance.ws.reconnecting_websocket",
    "binance.ws.keepalive_websocket",
    "binance.ws.streams",
)


class CredentialRedactor(logging.Filter):
    """Masks registered credentials in the records of :data:`LIBRARY_LOGGERS`."""

    def __init__(self) -> None:
        super().__init__()
        self._values: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return f"CredentialRedactor({len(self._values)} value(s))"

    def add(self, value: str) -> None:
        if not value:
            return
        if not self._values:
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).addFilter(self)
        self._values[value] += 1

    def discard(self, value: str) -> None:
        if self._values[value] <= 1:
            self._values.pop(value, None)
        else:
            self._values[value] -= 1
        if not self._values:
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).removeFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for value in self._values:
            message = message.replace(value, MASK)
        record.msg, record.args = message, None
        return True


redactor: Final = CredentialRedactor()
"""The one filter all adapters of the process share."""
