"""Defective inputs: each gives a clear error, or the data before the fault plus a warning."""

from __future__ import annotations

import gzip
import struct
import warnings
import zlib

import pytest

import vitalproc
from conftest import REAL_FILES, reference
from vitalproc import VitalFormatError, VitalWarning

from parity import differences, same_value
from vitalbytes import F32, NUM, REC, VitalBuilder, gzip_bytes, u16, u32

GOOD = REAL_FILES[0].read_bytes()
T0 = 1_700_000_000.0


def header_of_length(n: int) -> bytes:
    b = VitalBuilder().raw_header(bytes(range(n)) if n < 256 else bytes(n))
    b.track(1, NUM, F32, "HR")
    b.number(1, T0, 60.0)
    return gzip_bytes(b.bytes())


# (name, bytes, exception class, text the message must hold)
REJECTED = [
    ("empty file", b"", VitalFormatError, "empty"),
    ("one byte", b"\x1f", VitalFormatError, "not a gzip"),
    ("not gzip", b"VITA" + bytes(100), VitalFormatError, "not a gzip"),
    ("text file", b"hello world\n" * 10, VitalFormatError, "not a gzip"),
    ("gzip, not VITA", gzip.compress(b"PK\x03\x04" + bytes(100)), VitalFormatError, "VITA"),
    ("gzip of nothing", gzip.compress(b""), VitalFormatError, "VITA"),
    (
        "cut inside the header",
        gzip.compress(b"VITA\x03\x00\x00\x00\x1a\x00\xc4\xff"),
        VitalFormatError,
        "header",
    ),
    (
        "header of 65535 bytes, file shorter",
        gzip.compress(b"VITA\x03\x00\x00\x00\xff\xff" + bytes(100)),
        VitalFormatError,
        "header",
    ),
    ("gzip header only", GOOD[:10], VitalFormatError, "header"),
]


@pytest.mark.parametrize("name,data,exc,text", REJECTED, ids=[r[0] for r in REJECTED])
@pytest.mark.parametrize("how", ["bytes", "path", "stream"])
def test_rejected(tmp_path, name, data, exc, text, how, monkeypatch):
    path = tmp_path / "bad.vital"
    path.write_bytes(data)
    if how == "stream":  # the ISA-L streaming path instead of the whole-file one
        monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    source = data if how == "bytes" else path
    with pytest.raises(exc, match=text) as err:
        vitalproc.read(source)
    shown = "<bytes>" if how == "bytes" else str(path)
    assert shown in str(err.value) and err.value.path == shown


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        vitalproc.read(tmp_path / "nope.vital")
    with pytest.raises(IsADirectoryError):
        vitalproc.read(tmp_path)


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 26, 27, 40])
def test_header_lengths(n):
    """Odd header lengths are read as vitaldb reads them (dgmt needs 2 bytes)."""
    gz = header_of_length(n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vf = vitalproc.read(gz)
    if n >= 2:
        assert differences(reference(gz), vf) == [] and not caught
    else:  # vitaldb raises struct.error; vitalproc reads the file with dgmt 0
        assert vf.dgmt == 0 and [w.code for w in vf.warnings] == ["short_header"]
    assert len(vf.trks["HR"]) == 1


def _corrupt_mid_stream(gz: bytes) -> tuple[bytes, int]:
    """Overwrite 64 bytes so that zlib finds invalid deflate data well before the trailer
    (many overwrites decode as garbage and only fail the CRC).

    Returns (bytes, first overwritten byte, byte where zlib reports the fault)."""
    for start in range(len(gz) // 3, 2 * len(gz) // 3, 61):
        bad = bytearray(gz)
        bad[start : start + 64] = b"\xaa" * 64
        d = zlib.decompressobj(wbits=31)
        try:
            for i in range(len(bad)):
                d.decompress(bytes(bad[i : i + 1]))
        except zlib.error:
            if i < len(gz) - 100:
                return bytes(bad), start, i
    raise AssertionError("no mid-stream corruption found")


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("stream", [False, True])
def test_corrupt_deflate_middle(path, stream, monkeypatch):
    gz = path.read_bytes()
    full = vitalproc.read(gz)
    bad, start, fault = _corrupt_mid_stream(gz)
    if stream:
        monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    with pytest.warns(VitalWarning, match="corrupt"):
        vf = vitalproc.read(bad)
    (issue,) = vf.warnings
    assert issue.code == "corrupt" and issue.where == "compressed"
    assert issue.offset == fault  # the exact byte where zlib finds the fault
    kept = sum(map(len, vf.trks.values()))
    assert 0 < kept < sum(map(len, full.trks.values()))
    # Every record whose packet inflated before the overwritten bytes is kept, unchanged
    # (between the overwrite and the point where zlib notices, it inflates garbage).
    good = zlib.decompressobj(wbits=31).decompress(gz[:start])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = vitalproc.read(gzip.compress(good))
    for name, t in clean.trks.items():
        assert differences_of_prefix(list(t.recs), list(vf.trks[name].recs)) == [], name
    # vitaldb keeps (at most) as much: it loses the inflate step that failed.
    ref = reference(bad)
    assert sum(len(t.recs) for t in ref.trks.values()) <= kept


def test_crc_mismatch_keeps_everything():
    bad = bytearray(GOOD)
    bad[-8] ^= 0xFF
    with pytest.warns(VitalWarning, match="check"):
        vf = vitalproc.read(bytes(bad))
    assert differences(vitalproc.read(GOOD), vf) == []
    assert differences(reference(bytes(bad)), vf) == []


def differences_of_prefix(short, long):
    return [
        i
        for i, (a, b) in enumerate(zip(short, long))
        if not (same_value(a["dt"], b["dt"]) and same_value(a["val"], b["val"]))
    ] + (["missing"] if len(long) < len(short) else [])


def _with_lying_length(length: int) -> bytes:
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, NUM, F32, "HR")
    b.number(1, T0, 60.0)
    b.number(1, T0 + 1, 61.0, length=length)
    b.number(1, T0 + 2, 62.0)
    return gzip_bytes(b.bytes())


@pytest.mark.parametrize("length", [0xFFFFFFFF, 0x7FFFFFFF, 1_000_001])
def test_corrupt_length_field(length):
    gz = _with_lying_length(length)
    with pytest.warns(VitalWarning):
        vf = vitalproc.read(gz, compat="vitaldb")
    assert differences(reference(gz), vf) == []
    assert vf.trks["HR"].values.tolist() == [60.0]
    with pytest.warns(VitalWarning) as caught:
        vf = vitalproc.read(gz)
    # The record with the lying length is complete: it is read; what follows is swallowed.
    assert vf.trks["HR"].values.tolist() == [60.0, 61.0]
    assert {w.code for w in vf.warnings} == {"short_packet", "big_packet"}
    assert any("1,000,000" in str(w.message) for w in caught)


def test_sample_count_past_packet_is_skipped_not_allocated():
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, 1, 5, "W", srate=100.0)
    b.wave(1, T0, [1, 2, 3], nsamp=0xFFFFFFFF)
    b.wave(1, T0 + 1, [4, 5])
    gz = gzip_bytes(b.bytes())
    with pytest.warns(VitalWarning, match="fewer bytes than they declare"):
        vf = vitalproc.read(gz)
    assert vf.trks["W"].samples.tolist() == [4, 5]
    assert differences(reference(gz), vf) == []


def test_trailing_garbage_and_truncation_keep_data():
    body = gzip.decompress(GOOD)
    full = vitalproc.read(GOOD)
    with pytest.warns(VitalWarning, match="not a gzip member"):
        vf = vitalproc.read(GOOD + b"garbage!")
    assert differences(full, vf) == []
    cut = GOOD[: len(GOOD) * 3 // 4]
    with pytest.warns(VitalWarning, match="cut short") as caught:
        vf = vitalproc.read(cut)
    assert differences(reference(cut), vf) == []
    assert 0 < sum(map(len, vf.trks.values())) < sum(map(len, full.trks.values()))
    assert "compressed" in str(caught[0].message)
    assert len(body) > 0


def test_unknown_and_odd_packets_are_skipped():
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.packet(200, b"\x01\x02\x03")
    b.track(1, NUM, F32, "HR")
    b.packet(REC, u16(10) + b"\x00" * 8 + u16(77) + u32(5))  # a record of an unknown track
    b.number(1, T0, 60.0)
    gz = gzip_bytes(b.bytes())
    vf = vitalproc.read(gz)
    assert differences(reference(gz), vf) == [] and vf.warnings == []


def test_strict_raises_at_the_first_fault():
    cut = GOOD[: len(GOOD) // 2]
    with pytest.raises(VitalFormatError, match="cut short") as err:
        vitalproc.read(cut, strict=True)
    assert err.value.where == "compressed" and err.value.offset > 0
    from fixtures_catalog import FIXTURES

    with pytest.raises(VitalFormatError, match="1,000,000"):
        vitalproc.read(FIXTURES["record_over_1mb"](), strict=True)
    assert vitalproc.read(GOOD, strict=True).warnings == []


def _bomb(zeros: int) -> bytes:
    """A tiny file that inflates to a header and ``zeros`` zero bytes (packets of length 0)."""
    head = b"VITA" + struct.pack("<IH", 3, 26) + struct.pack("<hIIdd", 0, 0, 0, T0, T0)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [comp.compress(head)]
    block = bytes(1 << 20)
    for _ in range(zeros >> 20):
        out.append(comp.compress(block))
    out.append(comp.flush())
    return b"".join(out)


def test_gzip_bomb_stops_at_the_limit():
    bomb = _bomb(256 << 20)
    assert len(bomb) < 300_000
    with pytest.raises(VitalFormatError, match="max_inflated_bytes"):
        vitalproc.read(bomb, max_inflated_bytes=16 << 20)


def test_runs_of_empty_packets_give_one_warning():
    with pytest.warns(VitalWarning) as caught:
        vf = vitalproc.read(_bomb(8 << 20))
    # 8 MiB of zeros: 1,677,721 empty packets, then 3 bytes too few for a sixth header.
    short, empty = vf.warnings
    assert empty.code == "malformed_packet" and empty.count == (8 << 20) // 5
    assert short.code == "short_packet"
    assert len(caught) == 2


def test_lying_trailer_size_is_not_allocated(monkeypatch):
    """A trailer claiming 4 GB must not reach libdeflate's up-front allocation."""
    bad = bytearray(GOOD)
    bad[-4:] = struct.pack("<I", 0xFFFFFFFF)
    called = []
    real = vitalproc.io._inflate._libdeflate.gzip_decompress
    monkeypatch.setattr(
        vitalproc.io._inflate._libdeflate,
        "gzip_decompress",
        lambda data: called.append(1) or real(data),
    )
    with pytest.warns(VitalWarning, match="check"):
        vf = vitalproc.read(bytes(bad))
    assert not called and sum(map(len, vf.trks.values())) > 0
