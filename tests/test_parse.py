"""The compiled walk on its own: constants agree with Python's, records land in columns."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from vitalproc import _constants
from vitalproc.io import _parse, reader


def test_status_codes_agree():
    for status in reader.Status:
        assert getattr(_parse, status.name) == status.value


def test_packet_and_type_codes_agree():
    c = _parse.CODES
    assert c["REC"] == _constants.Packet.REC
    assert (c["WAVE"], c["NUMERIC"], c["STRING"]) == (
        _constants.TrackType.WAVE,
        _constants.TrackType.NUMERIC,
        _constants.TrackType.STRING,
    )
    assert c["MAX_UNPACKED_PACKET"] == _constants.MAX_UNPACKED_PACKET
    assert c["NTIDS"] == 2**16  # track ids are u16
    assert {
        f: np.dtype(d).itemsize for f, d in _constants.FMT_DTYPE.items()
    } == _constants.FMT_ITEMSIZE


def rec(tid, dt, payload, infolen=10):
    body = struct.pack("<Hd", infolen, dt) + struct.pack("<H", tid)
    body += bytes(infolen - 10) + payload if infolen >= 10 else payload
    return struct.pack("<BI", 1, len(body)) + body


def test_records_into_columns():
    w = _parse.Walker()
    w.first_rec_pending = False
    wave = w.add_slot(1, 2, 100.0)
    num = w.add_slot(2, 4, 0.0)
    text = w.add_slot(5, 0, 0.0)
    w.map_tid(1, wave)
    w.map_tid(2, num)
    w.map_tid(3, text)
    buf = (
        rec(1, 10.0, struct.pack("<I3h", 3, 1, -2, 3))
        + rec(2, 10.5, struct.pack("<f", 72.5))
        + rec(3, 11.0, struct.pack("<II", 0, 5) + b"hello")
        + rec(9, 12.0, b"\x00" * 8)  # an undeclared track id: skipped
        + rec(1, 13.0, struct.pack("<I2h", 2, 4, 5))
    )
    status, pos, need = w.walk(buf, 0, False)
    assert (status, pos, need) == (_parse.END, len(buf), 5)
    assert (w.dtstart, w.dtend) == (10.0, 13.0 + 2 / 100.0)
    nrec, dt, ends, data = w.take(wave)
    assert nrec == 2 and np.frombuffer(dt).tolist() == [10.0, 13.0]
    assert np.frombuffer(ends, np.int64).tolist() == [0, 3, 5]
    assert np.frombuffer(data, "<i2").tolist() == [1, -2, 3, 4, 5]
    nrec, dt, ends, data = w.take(text)
    assert bytes(memoryview(data)) == b"hello"


def test_partial_packet_waits_for_more():
    w = _parse.Walker()
    w.first_rec_pending = False
    w.map_tid(2, w.add_slot(2, 4, 0.0))
    packet = rec(2, 1.0, struct.pack("<f", 1.0))
    assert w.walk(packet[:3], 0, False) == (_parse.END, 0, 5)
    assert w.walk(packet[:-1], 0, False) == (_parse.END, 0, len(packet))
    assert w.walk(packet, 0, False) == (_parse.END, len(packet), 5)


def test_other_packets_are_handed_back():
    w = _parse.Walker()
    buf = struct.pack("<BI", 9, 3) + b"abc" + rec(1, 1.0, b"")
    assert w.walk(buf, 0, False) == (_parse.PACKET, 0, 3)
    assert w.walk(buf, 8, False) == (_parse.FIRST_REC, 8, 0)


@pytest.mark.parametrize("limit,status", [(0, _parse.END), (5, _parse.BIG)])
def test_big_packet_limit(limit, status):
    w = _parse.Walker()
    w.first_rec_pending = False
    w.big_limit = limit
    buf = rec(1, 1.0, b"\x00" * 10)
    assert w.walk(buf, 0, False)[0] == status


def test_block_memory_is_shared_with_numpy():
    w = _parse.Walker()
    w.first_rec_pending = False
    w.map_tid(1, w.add_slot(1, 1, 0.0))
    w.walk(rec(1, 1.0, struct.pack("<I", 3) + b"\x01\x02\x03"), 0, False)
    _, _, _, data = w.take(0)
    a = np.frombuffer(data, np.int8)
    b = np.frombuffer(data, np.int8)
    a[0] = 9
    assert b[0] == 9 and a.flags.writeable
    del w, data  # the arrays keep the memory alive
    assert a.tolist() == [9, 2, 3]


def test_big_columns_grow_without_losing_samples():
    """Columns past 1 MB take the big-column path (a huge-page mapping grown by mremap
    on Linux, the heap in a portable build): every sample lands, in order."""
    w = _parse.Walker()
    w.first_rec_pending = False
    wave = w.add_slot(1, 4, 500.0)
    w.map_tid(1, wave)
    per_record = 50_000  # 200 kB of int32 per record: 3 MB over 15 records, so the
    rng = np.random.default_rng(7)  # column grows past 1 MB and is grown again after
    expected = rng.integers(-(2**31), 2**31, per_record * 15, dtype=np.int64).astype("<i4")
    buf = b"".join(
        rec(
            1,
            100.0 + i,
            struct.pack("<I", per_record)
            + expected[i * per_record : (i + 1) * per_record].tobytes(),
        )
        for i in range(15)
    )
    status, pos, _ = w.walk(buf, 0, False)
    assert (status, pos) == (_parse.END, len(buf))
    nrec, _dt, ends, data = w.take(wave)
    assert nrec == 15
    assert np.frombuffer(ends, np.int64)[-1] == expected.size
    assert np.array_equal(np.frombuffer(data, "<i4"), expected)
    assert isinstance(_parse.BIG_COLUMNS_MAPPED, bool)
