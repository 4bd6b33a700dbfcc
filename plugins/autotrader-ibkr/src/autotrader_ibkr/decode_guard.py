"""Catch the messages the IB client library could not decode and dropped with only a log line.

ib_async and ib_insync never raise on a message they cannot read: the decoder logs the exception
(``<lib>.Decoder``) and drops the message, the wrapper logs an ``orderStatus`` or reqId it cannot
place (``<lib>.wrapper``), the client logs a handshake it refuses (``<lib>.client``), and an
exception in the client's socket handler or in a listener (the adapter's own callbacks) is
swallowed by eventkit: logged (``eventkit.event``) by ib_insync's eventkit, and dropped without
a word by ib_async's aeventkit unless someone listens on the event's ``error_event``, which the
adapter does, logging it on ``autotrader_ibkr.events``.  A local TWS that writes one field too
many, or an adapter callback that raises, would therefore pass every test that only looks at
outcomes.  The local TWS's own failure to read a client request (``autotrader_ibkr.tws``, which
answers it with error 320) is the same fault in the other direction and is caught too.
:class:`DecodeGuard` listens on those loggers and turns any such line into
:class:`UndecodableMessage`; the conformance harness and the plugin's tests both run inside one.

The libraries also log expected things at ERROR: every IB error message it receives
(``Error 201, reqId 7: ...``) and the connection going away.  Those are the only lines let
through, by pattern; anything else those loggers say at ERROR fails.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Final

from autotrader.errors import AutotraderError

from autotrader_ibkr.compat import LIBRARY

__all__ = ["WATCHED_LOGGERS", "DecodeGuard", "UndecodableMessage", "is_dropped_message"]

WATCHED_LOGGERS: Final = (
    f"{LIBRARY}.Decoder",
    f"{LIBRARY}.wrapper",
    f"{LIBRARY}.client",
    "eventkit.event",
    "autotrader_ibkr.events",
    "autotrader_ibkr.tws",
)
"""Where the libraries report a message they dropped (names checked against the library in tests)."""

_EXPECTED: Final = {
    f"{LIBRARY}.wrapper": re.compile(r"(Error|Warning) -?\d+, reqId -?\d+: "),
    f"{LIBRARY}.client": re.compile(
        r"API connection failed|Make sure API port|Peer closed connection|\[Errno \d+\]|"
        r"Connection (lost|reset)"
    ),
}
"""Per logger, the ERROR lines that are not a dropped message: IB's error echo, the socket closing."""


class UndecodableMessage(AutotraderError):
    """The IB client library logged a message it could not decode or deliver (and dropped it)."""


def is_dropped_message(record: logging.LogRecord) -> bool:
    """Whether ``record`` (from a watched logger) reports a message the client dropped."""
    if record.levelno < logging.ERROR:
        return False
    expected = _EXPECTED.get(record.name)
    return expected is None or expected.match(record.getMessage()) is None


class DecodeGuard(logging.Handler):
    """Collects dropped-message log lines while active; :meth:`check` raises if there were any.

    Use as a context manager.  Entering makes sure the watched loggers can emit ERROR (a logger
    silenced by configuration would otherwise hide exactly what this guard is for).
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._saved: list[tuple[logging.Logger, int, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if is_dropped_message(record):
            self.records.append(record)

    def __enter__(self) -> DecodeGuard:
        if logging.root.manager.disable >= logging.ERROR:
            raise UndecodableMessage(
                "logging.disable() hides ERROR records, so dropped IB messages cannot be seen"
            )
        for name in WATCHED_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level, logger.disabled))
            if logger.getEffectiveLevel() > logging.ERROR:
                logger.setLevel(logging.ERROR)
            logger.disabled = False
            logger.addHandler(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for logger, level, disabled in self._saved:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.disabled = disabled
        self._saved.clear()

    def problems(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records]

    def check(self) -> None:
        """Raise :class:`UndecodableMessage` naming every dropped message seen so far."""
        if self.records:
            lines = "\n".join(self.problems())
            raise UndecodableMessage(f"the {LIBRARY} client dropped messages it could not handle:\n{lines}")
