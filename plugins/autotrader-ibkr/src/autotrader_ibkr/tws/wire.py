"""The TWS API socket framing: ``API\\0``, 4-byte big-endian length prefixes, NUL-terminated fields.

Every message after the handshake is ``len(payload)`` (``>I``) followed by ``payload``, and the
payload is a run of fields each terminated by ``\\0``.  The client opens with the literal
``API\\0`` and one framed string ``v<min>..<max>[ options]``; the server answers with one framed
message of two fields, its version and its connection time.  Nothing else is special.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from decimal import Decimal
from typing import Final, TypeAlias

__all__ = [
    "API_SIGN",
    "SERVER_VERSION",
    "Field",
    "FrameBuffer",
    "In",
    "Out",
    "decode_payload",
    "encode_field",
    "encode_message",
    "frame",
    "negotiate_version",
    "parse_version_range",
]

API_SIGN: Final = b"API\0"
SERVER_VERSION: Final = 176
"""The version this TWS speaks: supported by both ib_async (157..178) and ib_insync (157..176)."""

Field: TypeAlias = str | int | Decimal | bool | None
_LENGTH = struct.Struct(">I")
MAX_MESSAGE: Final = 16 * 1024 * 1024


class In(enum.IntEnum):
    """Message ids a client sends (the subset this TWS answers)."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCT_DATA = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_CURRENT_TIME = 49
    REQ_GLOBAL_CANCEL = 58
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_COMPLETED_ORDERS = 99


class Out(enum.IntEnum):
    """Message ids the TWS sends."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ORDER_STATUS = 3
    ERR_MSG = 4
    OPEN_ORDER = 5
    ACCT_VALUE = 6
    PORTFOLIO_VALUE = 7
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    EXECUTION_DATA = 11
    MANAGED_ACCTS = 15
    CURRENT_TIME = 49
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    TICK_SNAPSHOT_END = 57
    MARKET_DATA_TYPE = 58
    COMMISSION_REPORT = 59
    POSITION_DATA = 61
    POSITION_END = 62
    ACCOUNT_SUMMARY = 63
    ACCOUNT_SUMMARY_END = 64
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    TICK_REQ_PARAMS = 81
    COMPLETED_ORDER = 101
    COMPLETED_ORDERS_END = 102


def encode_field(value: Field) -> str:
    """One field as TWS writes it: empty for unset, ``1``/``0`` for booleans, plain decimals."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]  # most fields: nothing to convert
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def encode_message(fields: Iterable[Field]) -> bytes:
    """A framed message: each field NUL-terminated, the whole length-prefixed.

    One join over the encoded fields (not one concatenation per field): an OPEN_ORDER has ~200
    fields, and encoding is most of what the local TWS spends on an order.
    """
    texts = list(map(encode_field, fields))
    texts.append("")  # the last field's terminator (and none for no fields)
    return frame("\0".join(texts).encode())


def decode_payload(payload: bytes) -> list[str]:
    """The fields of one payload (the trailing terminator yields no field)."""
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


class FrameBuffer:
    """Accumulates socket bytes and yields complete payloads (partial frames wait for more)."""

    def __init__(self) -> None:
        self._data = b""

    def append(self, data: bytes) -> None:
        self._data += data

    def feed(self, data: bytes = b"") -> list[bytes]:
        """Add ``data``; return every complete payload now buffered."""
        self._data += data
        payloads = []
        while len(self._data) >= 4:
            (size,) = _LENGTH.unpack_from(self._data)
            if size > MAX_MESSAGE:
                raise ValueError(f"message of {size} bytes exceeds the {MAX_MESSAGE} limit")
            if len(self._data) < 4 + size:
                break
            payloads.append(self._data[4 : 4 + size])
            self._data = self._data[4 + size :]
        return payloads

    def take(self, count: int) -> bytes | None:
        """The next ``count`` raw bytes (the ``API\\0`` sign), or None until they are in."""
        if len(self._data) < count:
            return None
        head, self._data = self._data[:count], self._data[count:]
        return head


def parse_version_range(text: str) -> tuple[int, int, str]:
    """``v157..178 +PACEAPI`` -> (157, 178, "+PACEAPI")."""
    spec, _, options = text.partition(" ")
    if not spec.startswith("v"):
        raise ValueError(f"bad version range {text!r}")
    low, sep, high = spec[1:].partition("..")
    if not sep:
        return int(low), int(low), options
    return int(low), int(high), options


def negotiate_version(low: int, high: int) -> int | None:
    """:data:`SERVER_VERSION` if the client's range admits it, else None.

    Message layouts depend on the version; this TWS writes exactly one, so it does not pretend to
    speak another.
    """
    return SERVER_VERSION if low <= SERVER_VERSION <= high else None
