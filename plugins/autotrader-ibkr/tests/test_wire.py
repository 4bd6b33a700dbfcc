"""Framing, field encoding and version negotiation of the TWS socket protocol."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from autotrader_ibkr.tws.wire import (
    FrameBuffer,
    decode_payload,
    encode_field,
    encode_message,
    negotiate_version,
    parse_version_range,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "1"),
        (False, "0"),
        (7, "7"),
        ("x", "x"),
        (Decimal("99.900"), "99.9"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.00005"), "0.00005"),
        (Decimal(0), "0"),
    ],
)
def test_fields(value: object, text: str) -> None:
    assert encode_field(value) == text  # type: ignore[arg-type]


def test_message_is_length_prefixed_nul_terminated() -> None:
    data = encode_message([9, 1, 42])
    assert data == struct.pack(">I", 7) + b"9\x001\x0042\x00"
    assert decode_payload(data[4:]) == ["9", "1", "42"]


def test_frames_split_across_reads() -> None:
    data = encode_message([4, 2, -1, 2104, "ok", ""]) + encode_message([62, 1])
    buffer = FrameBuffer()
    assert buffer.feed(data[:5]) == []
    payloads = buffer.feed(data[5:])
    assert [decode_payload(p) for p in payloads] == [["4", "2", "-1", "2104", "ok", ""], ["62", "1"]]


def test_api_sign_is_read_raw() -> None:
    buffer = FrameBuffer()
    buffer.append(b"API\0" + struct.pack(">I", 9) + b"v157..178")
    assert buffer.take(4) == b"API\0"
    assert buffer.feed() == [b"v157..178"]


def test_versions() -> None:
    assert parse_version_range("v157..178 +PACEAPI") == (157, 178, "+PACEAPI")
    assert parse_version_range("v176") == (176, 176, "")
    assert negotiate_version(157, 178) == 176
    assert negotiate_version(157, 176) == 176
    assert negotiate_version(100, 170) is None
    with pytest.raises(ValueError, match="bad version"):
        parse_version_range("157..178")
