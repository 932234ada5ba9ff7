"""Named, deterministic .vital fixtures: ``FIXTURES[name]()`` -> gzip bytes.

Each builder's docstring says what it exercises; the expected outcome is
whatever vitaldb 1.7.2 (with the FMT_TYPE_LEN 7/8 fix) returns for it.
``RECOVERY`` names the fixtures on which vitaldb loses data a careful reader
could still return; ``RECOVERY_NOTES`` says what is lost.

Run ``python tests/fixtures_catalog.py`` for a table of what vitaldb reads.
"""

import contextlib
import functools
import io
import math
import os
import struct
import sys
import tempfile
import time
import warnings
from collections.abc import Callable

import numpy as np

from vitalbytes import (
    F32,
    F64,
    FMT_SIZE,
    I8,
    I16,
    I32,
    NUM,
    RAWDATA,
    REC,
    STR,
    TRACK_FIELDS,
    U8,
    U16,
    U32,
    WAVE,
    VitalBuilder,
    f64,
    gzip_bytes,
    gzip_member,
    i16,
    truncate,
    u8,
    u16,
    u32,
    vstr,
)

FIXTURES: dict[str, Callable[[], bytes]] = {}

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC: every fixture's clock, never the wall clock
DGMT = -540  # KST, as VitalDB recordings carry it
PACKET_LIMIT = 1_000_000  # vitaldb stops at a body longer than this in unpacked files


def fixture(fn):
    """Register ``fn`` under its name. Cached: bytes are immutable and some
    fixtures pay for a vitaldb round trip."""
    doc = (fn.__doc__ or "").strip()
    assert doc and "\n" not in doc, f"{fn.__name__}: one-line docstring required"
    FIXTURES[fn.__name__] = cached = functools.cache(fn)
    return cached


def _builder(**header):
    """Builder with the usual 26-byte header spanning T0 .. T0+60."""
    return VitalBuilder().header(dgmt=DGMT, dtstart=T0, dtend=T0 + 60, **header)


def _f32_bits(bits):
    return struct.unpack("<f", u32(bits))[0]


# Values at the limits of each format. Floats also carry signed zero,
# subnormals, infinities and NaN; NAN_BITS holds NaNs with payloads (and a
# signalling one) that only raw bytes can carry.
EXTREMES = {
    F32: [
        0.0,
        -0.0,
        1.5,
        -2.25,
        _f32_bits(0x7F7FFFFF),
        -_f32_bits(0x7F7FFFFF),
        _f32_bits(0x00800000),
        _f32_bits(0x00000001),
        math.inf,
        -math.inf,
        math.nan,
    ],
    F64: [
        0.0,
        -0.0,
        1.5,
        -2.25,
        sys.float_info.max,
        -sys.float_info.max,
        sys.float_info.min,
        5e-324,
        math.inf,
        -math.inf,
        math.nan,
    ],
    I8: [-128, 127, 0, -1, 1],
    U8: [0, 255, 1, 128, 127],
    I16: [-32768, 32767, 0, -1, 1],
    U16: [0, 65535, 1, 32768, 32767],
    I32: [-(2**31), 2**31 - 1, 0, -1, 1],
    U32: [0, 2**32 - 1, 1, 2**31, 2**31 - 1],
}
NAN_BITS = {
    F32: [u32(0x7FA00001), u32(0xFFC00000), u32(0x7FC12345)],  # signalling, -quiet, payload
    F64: [
        struct.pack("<Q", 0x7FF0000000000001),
        struct.pack("<Q", 0xFFF8000000000000),
        struct.pack("<Q", 0x7FF8DEAD00000000),
    ],
}
FMT_NAMES = {
    F32: "F32",
    F64: "F64",
    I8: "I8",
    U8: "U8",
    I16: "I16",
    U16: "U16",
    I32: "I32",
    U32: "U32",
}


def _add_all_fmt_waves(b, did):
    """Wave track W_<fmt> (tid = fmt) per format; record 1 holds the extremes,
    record 2 the NaN bit patterns (floats) or a ramp (integers)."""
    for fmt, name in FMT_NAMES.items():
        b.track(fmt, WAVE, fmt, f"W_{name}", srate=100.0, did=did)
    for fmt in FMT_NAMES:
        b.wave(fmt, T0, EXTREMES[fmt])
        b.wave(fmt, T0 + 1, b"".join(NAN_BITS[fmt]) if fmt in NAN_BITS else list(range(0, 100, 7)))


def _add_all_fmt_numbers(b, did):
    """Numeric track N_<fmt> (tid = 10 + fmt) per format, one record per
    extreme value, then the NaN bit patterns as raw bytes."""
    for fmt, name in FMT_NAMES.items():
        b.track(10 + fmt, NUM, fmt, f"N_{name}", did=did)
    for fmt in FMT_NAMES:
        for i, value in enumerate(EXTREMES[fmt] + NAN_BITS.get(fmt, [])):
            b.number(10 + fmt, T0 + i, value)


@fixture
def wave_all_fmts():
    """Wave tracks in every fmt 1..8: dtype extremes, +-0, subnormals, inf, NaN payloads."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    _add_all_fmt_waves(b, did=1)
    return gzip_bytes(b.bytes())


@fixture
def numeric_all_fmts():
    """Numeric tracks in every fmt 1..8: dtype extremes, +-0, subnormals, inf, NaN payloads."""
    b = _builder().device(1, "Solar8000M", "Solar8000")
    _add_all_fmt_numbers(b, did=1)
    return gzip_bytes(b.bytes())


@fixture
def string_values():
    """String records: ASCII, empty, Korean+emoji, invalid UTF-8 (dropped bytes), NUL, 300 chars."""
    b = _builder().device(1, "Orchestra", "Orchestra")
    b.track(1, STR, F32, "EVENT_LOG", did=1)
    for i, text in enumerate(
        ["Induction", "", "마취 시작 🫀", b"bad \xff\xfe utf8 \xc3", "with\x00nul", "x" * 300]
    ):
        b.string(1, T0 + i, text)
    return gzip_bytes(b.bytes())


@fixture
def utf8_names():
    """UTF-8 and invalid UTF-8 in device, track and unit names; a name that decodes to ''."""
    b = _builder()
    b.device(1, b"Type\xff", "모니터", "COM1")  # typename loses \xff
    b.track(1, NUM, F32, "심박수", unit="/분", did=1)
    b.track(2, NUM, F32, b"Bad\xffName", unit="\u2103", did=1)  # -> 'BadName'
    b.track(3, NUM, F32, b"\xff\xfe", did=1)  # -> '' -> dtname '모니터/'
    for tid in (1, 2, 3):
        b.number(tid, T0 + tid, 10.0 * tid)
    return gzip_bytes(b.bytes())


@fixture
def device_empty_name():
    """Device name '' (named after its type), type '' (= name), both '' (dtname '/HR'), ports."""
    b = _builder()
    b.device(1, "Solar8000M", "")  # -> device 'Solar8000M'
    b.device(2, "", "BIS", "COM2")  # type falls back to 'BIS'
    b.device(3, "", "")  # name '' -> track dtname '/HR'
    b.device(0x5D0A5D0A, "Intellivue", "Intellivue", "")  # real-world did; empty port
    for tid, did in enumerate((1, 2, 3, 0x5D0A5D0A), start=1):
        b.track(tid, NUM, F32, "HR", did=did)
        b.number(tid, T0 + tid, 60.0 + tid)
    return gzip_bytes(b.bytes())


@fixture
def device_redeclared():
    """Same did declared twice under new names: tracks keep the name their did had when declared."""
    b = _builder()
    b.device(1, "Monitor", "A")
    b.track(1, NUM, F32, "HR", did=1)  # -> 'A/HR'
    b.device(1, "Monitor", "B")
    b.track(2, NUM, F32, "SPO2", did=1)  # -> 'B/SPO2'
    b.number(1, T0, 70.0).number(2, T0, 98.0)
    return gzip_bytes(b.bytes())


@fixture
def track_no_device():
    """Tracks with did 0, an unknown did, and a did whose device is declared only afterwards."""
    b = _builder()
    b.track(1, NUM, F32, "HR", did=0)  # -> 'HR'
    b.track(2, NUM, F32, "SPO2", did=99)  # unknown did -> 'SPO2'
    b.track(3, NUM, F32, "RR", did=2)  # device 2 not declared yet -> 'RR'
    b.device(2, "Vent", "Vent")
    b.track(4, NUM, F32, "PEEP", did=2)  # -> 'Vent/PEEP'
    for tid in (1, 2, 3, 4):
        b.number(tid, T0 + tid, float(tid))
    return gzip_bytes(b.bytes())


@fixture
def trkinfo_short():
    """Track info stopping after the name and after each optional field; unknown extra bytes."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    stops = ("name", *TRACK_FIELDS)
    for i, stop in enumerate(stops):
        # Odd tids are waves (srate, gain, offset matter), even tids numerics.
        b.track(
            2 * i + 1,
            WAVE,
            I16,
            f"W_{stop}",
            unit="mV",
            mindisp=-1.0,
            maxdisp=1.0,
            col=0xFF00FF00,
            srate=100.0,
            gain=0.5,
            offset=-10.0,
            montype=1,
            did=1,
            reclen=0,
            trk_dtstart=T0,
            trk_dtend=T0 + 1,
            upto=stop,
        )
        b.track(
            2 * i + 2,
            NUM,
            F32,
            f"N_{stop}",
            unit="/min",
            mindisp=0.0,
            maxdisp=200.0,
            did=1,
            upto=stop,
        )
    last = 2 * len(stops) + 1
    b.track(last, NUM, F32, "N_extra", did=1, extra=b"future fields")
    for i in range(len(stops)):
        b.wave(2 * i + 1, T0 + i, list(range(-50, 50)))
        b.number(2 * i + 2, T0 + i, float(i))
    b.number(last, T0, 1.0)
    return gzip_bytes(b.bytes())


@fixture
def trkinfo_partial_field():
    """Track info whose body ends 2 bytes into mindisp: vitaldb aborts the load there."""
    b = _builder()
    b.track(1, NUM, F32, "HR").number(1, T0, 70.0)
    b.track(2, NUM, F32, "SPO2", upto="unit", extra=b"\x00\x00")  # half an f32
    b.track(3, NUM, F32, "RR").number(3, T0, 12.0).number(1, T0 + 1, 71.0)
    return gzip_bytes(b.bytes())


@fixture
def invalid_fmt_and_type():
    """Wave/numeric fmt 0 and 9 (skipped); string fmt 0, types 3 and 0 (kept, records unread)."""
    b = _builder()
    b.track(1, WAVE, 0, "W_fmt0", srate=100.0)  # skipped: fmt not 1..8
    b.track(2, NUM, 9, "N_fmt9")  # skipped
    b.track(3, STR, 0, "S_fmt0")  # kept: fmt is not checked for strings
    b.track(4, 3, F32, "T3")  # kept, but its records store nothing
    b.track(5, 0, 77, "T0_fmt77")  # kept: fmt is only checked for types 1 and 2
    b.wave(1, T0 + 900, [1.0, 2.0], fmt=F32)  # undeclared tid: ignored, not even its dt
    b.number(2, T0 + 900, 1.0, fmt=F32)
    b.string(3, T0 + 1, "kept")
    b.number(4, T0 + 500, 4.0)  # not stored, yet moves dtend to T0+500
    b.number(5, T0 - 500, 5.0, fmt=F32)  # not stored, yet moves dtstart to T0-500
    return gzip_bytes(b.bytes())


@fixture
def undeclared_tid_records():
    """Records for tids never declared, and records that precede their track's declaration."""
    b = _builder()
    b.number(7, T0 + 1000, 1.0, fmt=F32)  # never declared
    b.number(1, T0 - 1000, 1.0, fmt=F32)  # before tid 1 exists: dropped
    b.track(1, NUM, F32, "HR")
    b.number(1, T0, 70.0)
    b.number(9, T0 + 2000, 1.0, fmt=F32)  # never declared
    return gzip_bytes(b.bytes())


@fixture
def infolen_variants():
    """Records with infolen 14 (padded or not), 6, 8, 12, 4, 0xFFFF; a record under 12 bytes."""
    b = _builder()
    b.track(1, NUM, F32, "N").track(2, WAVE, F32, "W", srate=10.0).track(3, STR, F32, "S")
    b.number(1, T0, 1.0)  # normal
    b.number(1, T0 + 1, 2.0, infolen=14, info_pad=b"\xaa" * 4)  # payload after 4 unknown bytes
    b.number(1, T0 + 2, 3.0, infolen=14, info_pad=b"")  # 4 bytes short: skipped
    b.number(1, T0 + 3, 4.0, infolen=6)  # value read from dt/tid bytes
    b.number(1, T0 + 4, 5.0, infolen=0xFFFF, info_pad=b"")  # payload beyond the packet: skipped
    b.wave(2, T0, [1.0, 2.0, 3.0], infolen=14, info_pad=b"\x00" * 4)
    b.wave(2, T0 + 1, [4.0, 5.0], infolen=8)  # nsamp read from tid bytes
    b.string(3, T0, "padded", infolen=12, info_pad=b"\x01\x02")
    b.string(3, T0 + 1, "short info", infolen=4)
    b.packet(REC, u16(10) + f64(T0 + 700) + b"\x01")  # 11 bytes: no tid, skipped whole
    return gzip_bytes(b.bytes())


@fixture
def wave_nsamp_mismatch():
    """Wave records with nsamp past the packet, 0xFFFFFFFF, 0 (empty record), fewer than present."""
    b = _builder()
    b.track(1, WAVE, F32, "W", srate=100.0)
    b.wave(1, T0, [1.0] * 10)
    b.wave(1, T0 + 100, [2.0] * 10, nsamp=1000)  # skipped, but dt still moves dtend
    b.wave(1, T0 + 2, [3.0] * 10, nsamp=0xFFFFFFFF)  # skipped
    b.wave(1, T0 + 3, [], nsamp=0)  # kept: an empty record
    b.wave(1, T0 + 4, [5.0] * 10, nsamp=5)  # kept: 5 samples, 5 ignored
    b.wave(1, T0 + 5, b"\x00\x00\x80", nsamp=1)  # 3 bytes for a 4-byte sample: skipped
    return gzip_bytes(b.bytes())


@fixture
def numeric_short():
    """Numeric records shorter than their fmt (skipped, dt counted) and longer (extra ignored)."""
    b = _builder()
    b.track(1, NUM, I32, "N_I32").track(2, NUM, F64, "N_F64")
    b.number(1, T0, 7)
    b.number(1, T0 + 200, b"\x01\x02")  # 2 of 4 bytes: skipped, dtend -> T0+200
    b.number(2, T0, b"\x00" * 4)  # 4 of 8 bytes: skipped
    b.number(2, T0 + 1, b"")  # no value at all: skipped
    b.number(1, T0 + 2, u32(42) + b"trailing")  # kept: 42
    return gzip_bytes(b.bytes())


@fixture
def string_overflow():
    """String length past the packet (truncated), mid-UTF-8 cut, missing length, reserved != 0."""
    b = _builder()
    b.track(1, STR, F32, "S")
    b.string(1, T0, "abc", strlen=1000)  # kept as 'abc'
    b.string(1, T0 + 1, "abcdef", strlen=2)  # kept as 'ab'
    b.string(1, T0 + 2, "한", strlen=2)  # half a character: kept as ''
    b.string(1, T0 + 3, "reserved", reserved=0xDEADBEEF)
    b.record(1, T0 + 300, u32(0))  # reserved only, no length: skipped, dt counted
    b.record(1, T0 + 4, u32(0) + b"\x05\x00")  # 2 of 4 length bytes: skipped
    return gzip_bytes(b.bytes())


@fixture
def reset_events():
    """Reset-events commands clear only the device-less track named exactly 'EVENT'."""
    b = _builder()
    b.reset_events()  # before EVENT exists: no effect
    b.device(1, "Orchestra", "Orchestra")
    b.track(1, STR, F32, "EVENT").track(2, STR, F32, "EVENT", did=1).track(3, STR, F32, "EVENTS")
    b.string(1, T0, "a").string(1, T0 + 1, "b").string(2, T0, "x").string(3, T0, "p")
    b.reset_events()  # EVENT: [] ; Orchestra/EVENT, EVENTS untouched
    b.string(1, T0 + 2, "c").string(2, T0 + 2, "y")
    b.reset_events().reset_events()
    b.string(1, T0 + 3, "d")  # EVENT ends as ['d']
    return gzip_bytes(b.bytes())


@fixture
def reset_events_then_redeclared():
    """EVENT reset, then re-declared under a new tid: the record between the two is dropped."""
    b = _builder()
    b.track(1, STR, F32, "EVENT").string(1, T0, "a")
    b.reset_events()
    b.string(1, T0 + 1, "b")
    b.track(2, STR, F32, "EVENT").string(2, T0 + 2, "c").string(1, T0 + 3, "d")
    return gzip_bytes(b.bytes())


@fixture
def track_order():
    """Order command with unknown tids, repeats, a tid declared later; an unknown command."""
    b = _builder()
    for tid, name in enumerate("ABC", start=1):
        b.track(tid, NUM, F32, name).number(tid, T0, float(tid))
    b.order([3, 1, 99, 1, 2, 3, 4])  # -> C A A B C (99 unknown, 4 not yet declared)
    b.track(4, NUM, F32, "D").number(4, T0, 4.0)
    b.command(7, b"\x01\x02\x03")  # unknown command: ignored
    return gzip_bytes(b.bytes())


@fixture
def track_order_replaced():
    """A second order command replaces the first, as Vital Recorder re-sends it as tracks appear."""
    b = _builder()
    b.track(1, NUM, F32, "A").track(2, NUM, F32, "B")
    b.order([1, 2])
    b.track(3, NUM, F32, "C")
    b.order([3, 1, 2])
    b.order([2])  # final: ['B']
    b.number(1, T0, 1.0)
    return gzip_bytes(b.bytes())


@fixture
def order_count_overflow():
    """Order command claiming 50 tids but holding 2: vitaldb aborts the load there."""
    b = _builder()
    b.track(1, NUM, F32, "A").number(1, T0, 1.0)
    b.order([1, 1], count=50)
    b.number(1, T0 + 1, 2.0).track(2, NUM, F32, "B").number(2, T0, 3.0)
    return gzip_bytes(b.bytes())


@fixture
def raw_packets():
    """Raw device data on several ports, sent and received, empty, and buflen past the packet."""
    b = _builder()
    b.track(1, NUM, F32, "HR")
    b.raw(T0, "COM1", b"\x02HR=72\x03", bsent=0)
    b.number(1, T0, 72.0)
    b.raw(T0 + 0.5, "COM2", b"\x01\x02", bsent=1)
    b.raw(T0 + 1, "COM1", b"")
    b.raw(T0 + 1.5, "TCP 10.0.0.1:5000", bytes(range(256)))
    b.raw(T0 + 2, "COM3", b"abcd", buflen=100)  # buffer claims more than is there: dropped
    b.number(1, T0 + 1, 73.0)
    return gzip_bytes(b.bytes())


@fixture
def raw_packets_short():
    """Raw packets missing trailing fields: vitaldb reuses the previous sport/bsent/buflen."""
    b = _builder()
    b.raw(T0, "COM1", b"", bsent=1)
    b.packet(RAWDATA, f64(T0 + 1))  # dt only
    b.packet(RAWDATA, f64(T0 + 2) + vstr("COM9"))  # dt, sport
    b.track(1, NUM, F32, "HR").number(1, T0, 70.0)
    return gzip_bytes(b.bytes())


@fixture
def unknown_packet_types():
    """Packet types no reader knows (2-5, 7, 8, 11, 200, 255) between ordinary packets."""
    b = _builder()
    b.packet(2, b"\x00" * 7)
    b.track(1, NUM, F32, "HR")
    for i, ptype in enumerate((3, 4, 5, 7, 8, 11, 200, 255)):
        b.packet(ptype, bytes([ptype]) * (i + 1))
        b.number(1, T0 + i, 60.0 + i)
    return gzip_bytes(b.bytes())


@fixture
def empty_body():
    """Header only, no packets: no devices, tracks or records."""
    return gzip_bytes(_builder().bytes())


@fixture
def bad_magic():
    """Signature 'VITX' instead of 'VITA': vitaldb returns an empty file."""
    b = VitalBuilder(magic=b"VITX").header(dgmt=DGMT, dtstart=T0, dtend=T0 + 60)
    return gzip_bytes(b.track(1, NUM, F32, "HR").number(1, T0, 1.0).bytes())


@fixture
def ends_after_version():
    """Inflated content stops after 'VITA' and the version: vitaldb returns an empty file."""
    return gzip_bytes(b"VITA" + u32(3))


@fixture
def header_10():
    """10-byte header: dtstart/dtend come from records, with dt=0 first, then negative dt."""
    b = VitalBuilder().header(dgmt=DGMT)
    b.track(1, NUM, F32, "N").track(2, WAVE, F32, "W", srate=100.0)
    b.number(1, 0.0, 1.0)  # dtstart 0 -> still 'unset'
    b.wave(2, T0 + 5, [0.5] * 100)  # dtstart T0+5, dtend T0+6 (wave end)
    b.number(1, -5.0, 2.0)  # negative: ignored for dtstart/dtend
    b.number(1, T0, 3.0)  # dtstart T0
    return gzip_bytes(b.bytes())


@fixture
def header_10_negative_first():
    """10-byte header whose first record has a negative dt: vitaldb's dtstart sticks at it."""
    b = VitalBuilder().header(dgmt=DGMT, instance_id=0x01020304, prog_version=0x2A070801)
    b.track(1, NUM, F32, "N")
    b.number(1, -5.0, 1.0).number(1, T0, 2.0).number(1, T0 + 10, 3.0)
    return gzip_bytes(b.bytes())


@fixture
def header_26():
    """26-byte header whose dtstart/dtend the records extend on both sides."""
    b = VitalBuilder().header(dgmt=DGMT, dtstart=T0 + 10, dtend=T0 + 20)
    b.track(1, NUM, F32, "N")
    for t in (T0 + 15, T0, T0 + 30):
        b.number(1, t, 1.0)
    return gzip_bytes(b.bytes())


@fixture
def header_27_packed():
    """27-byte header with the packed flag, written by hand: interleaved records, reclen 0."""
    b = _builder(packed=True)
    b.track(1, NUM, F32, "N").track(2, WAVE, I16, "W", srate=10.0)
    for i in range(3):
        b.number(1, T0 + i, float(i)).wave(2, T0 + i, [i] * 10)
    return gzip_bytes(b.bytes())


@fixture
def header_long():
    """40-byte header: packed flag then 13 bytes no reader knows."""
    b = VitalBuilder().raw_header(
        i16(DGMT)
        + u32(0)
        + u32(0)  # dgmt, instance, version
        + f64(T0)
        + f64(T0 + 60)
        + u8(1)  # dtstart, dtend, packed
        + b"future bytes!"
    )
    b.track(1, NUM, F32, "N").number(1, T0, 1.0)
    return gzip_bytes(b.bytes())


def _big_wave_file(packed_flag, body_len):
    """N record, then an I8 wave record with a body of ``body_len`` bytes, then
    another N record and a new track with a record."""
    b = _builder() if packed_flag is None else _builder(packed=packed_flag)
    b.track(1, NUM, F32, "N").track(2, WAVE, I8, "BIG", srate=1000.0)
    b.number(1, T0, 1.0)
    # body = u16 infolen + f64 dt + u16 tid + u32 nsamp + nsamp x i8
    b.wave(2, T0 + 1, bytes(body_len - 16))
    b.number(1, T0 + 2, 2.0).track(3, NUM, F32, "AFTER").number(3, T0 + 3, 3.0)
    return gzip_bytes(b.bytes())


@fixture
def record_over_1mb():
    """Unpacked file with a 1,000,001-byte record mid-file: vitaldb stops reading there."""
    return _big_wave_file(None, PACKET_LIMIT + 1)


@fixture
def record_exactly_1mb():
    """Unpacked file with a record of exactly 1,000,000 bytes: the largest vitaldb still reads."""
    return _big_wave_file(None, PACKET_LIMIT)


@fixture
def packed_record_over_1mb():
    """Packed-flag file with a 1,000,001-byte record: the size limit does not apply."""
    return _big_wave_file(True, PACKET_LIMIT + 1)


@fixture
def header_27_flag_2():
    """Packed byte 2 is not 'packed' (only 1 is): the 1 MB limit applies and vitaldb stops."""
    return _big_wave_file(2, PACKET_LIMIT + 1)


@fixture
def length_lies_huge():
    """A record whose body length says 0xFFFFFFFF in an unpacked file: vitaldb stops there."""
    b = _builder()
    b.track(1, NUM, F32, "N").number(1, T0, 1.0)
    b.number(1, T0 + 1, 2.0, length=0xFFFFFFFF)
    b.number(1, T0 + 2, 3.0)
    return gzip_bytes(b.bytes())


@fixture
def packed_length_lies_huge():
    """Packed-flag file whose last record claims 0xFFFFFFFF bytes: vitaldb reads what is left."""
    b = _builder(packed=True)
    b.track(1, NUM, F32, "N").number(1, T0, 1.0)
    b.number(1, T0 + 1, 2.0, length=0xFFFFFFFF)
    return gzip_bytes(b.bytes())


@fixture
def zero_length_packet():
    """A packet with an empty body mid-file: vitaldb takes the empty read for end of file."""
    b = _builder()
    b.track(1, NUM, F32, "N").number(1, T0, 1.0)
    b.packet(REC, b"")
    b.number(1, T0 + 1, 2.0).track(2, NUM, F32, "AFTER").number(2, T0, 3.0)
    return gzip_bytes(b.bytes())


@fixture
def stray_timestamps():
    """Records decades away from the rest (1970, 2099) drag vitaldb's dtstart/dtend."""
    b = _builder()
    b.track(1, NUM, F32, "N").track(2, WAVE, F32, "W", srate=100.0)
    for t in (T0, T0 + 1, 1.0, T0 + 30, 4.1e9):
        b.number(1, t, 1.0)
    b.wave(2, T0 + 59, [0.0] * 100)
    return gzip_bytes(b.bytes())


@fixture
def nan_inf_dt():
    """10-byte header, first record dt NaN (dtstart stays NaN), then inf and -inf dt."""
    b = VitalBuilder().header(dgmt=DGMT)
    b.track(1, NUM, F32, "N")
    for t in (math.nan, T0, math.inf, -math.inf):
        b.number(1, t, 1.0)
    return gzip_bytes(b.bytes())


@fixture
def same_track_two_devices():
    """Track 'HR' on two devices and on none: three distinct tracks."""
    b = _builder()
    b.device(1, "Solar8000M", "Solar8000").device(2, "BIS", "BIS")
    b.track(1, NUM, F32, "HR", did=1).track(2, NUM, F32, "HR", did=2).track(3, NUM, F32, "HR")
    for tid in (1, 2, 3):
        b.number(tid, T0, 60.0 + tid)
    return gzip_bytes(b.bytes())


@fixture
def duplicate_device_name():
    """Two dids named alike each declare 'HR': the second declaration replaces the first."""
    b = _builder()
    b.device(1, "Monitor", "Monitor").device(2, "Monitor", "Monitor")
    b.track(1, NUM, F32, "HR", did=1)
    b.number(1, T0, 1.0).number(1, T0 + 1, 2.0)
    b.track(2, NUM, F32, "HR", did=2)  # same dtname 'Monitor/HR'
    b.number(2, T0 + 2, 3.0).number(1, T0 + 3, 4.0)
    return gzip_bytes(b.bytes())


@fixture
def redeclared_same_meta():
    """Track re-declared mid-file under a new tid, same metadata: earlier records are dropped."""
    b = _builder().device(1, "Solar8000M", "Solar8000")
    b.track(1, NUM, F32, "HR", unit="/min", did=1)
    for i in range(3):
        b.number(1, T0 + i, 60.0 + i)
    b.track(2, NUM, F32, "HR", unit="/min", did=1)  # same dtname, new tid
    b.number(2, T0 + 3, 63.0).number(2, T0 + 4, 64.0).number(1, T0 + 5, 65.0)
    return gzip_bytes(b.bytes())


@fixture
def redeclared_new_fmt():
    """Wave and numeric tracks re-declared with fmt I16: old-tid records are then decoded as I16."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    b.track(1, WAVE, F32, "ECG", srate=100.0, did=1).track(2, NUM, F32, "HR", did=1)
    b.wave(1, T0, [0.25, -0.5, 1.0, 2.0]).number(2, T0, 60.0)
    b.track(3, WAVE, I16, "ECG", srate=100.0, did=1).track(4, NUM, I16, "HR", did=1)
    b.wave(3, T0 + 1, [1, -1, 300]).number(4, T0 + 1, 61)
    b.wave(1, T0 + 2, [0.25, -0.5], fmt=F32).number(2, T0 + 2, 62.0, fmt=F32)  # F32 bytes
    return gzip_bytes(b.bytes())


# ---- a track declared again (a device reconnects, an ADC is recalibrated) --------------


@fixture
def redeclared_wave_compatible():
    """Wave and string tracks declared again alike (same fmt, gain, offset) under new tids."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    b.track(1, WAVE, I16, "ECG", srate=100.0, gain=0.01, did=1).track(2, STR, 0, "NOTE", did=1)
    b.wave(1, T0, [1, 2, 3]).string(2, T0, "a")
    b.track(3, WAVE, I16, "ECG", srate=100.0, gain=0.01, did=1).track(4, STR, 0, "NOTE", did=1)
    b.wave(3, T0 + 1, [4, 5]).string(4, T0 + 1, "b").wave(3, T0 + 2, [6])
    return gzip_bytes(b.bytes())


@fixture
def redeclared_gain():
    """ECG (I16) and PLETH (U16) recalibrated mid-file: declared again with another gain."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    b.track(1, WAVE, I16, "ECG", srate=100.0, gain=0.01, did=1)
    b.track(2, WAVE, U16, "PLETH", srate=100.0, gain=0.1, offset=-10.0, did=1)
    b.wave(1, T0, [100, -100, 32767, -32768]).wave(2, T0, [0, 100, 65535])
    b.wave(1, T0 + 1, [7, 8])
    b.track(3, WAVE, I16, "ECG", srate=100.0, gain=0.02, did=1)
    b.track(4, WAVE, U16, "PLETH", srate=100.0, gain=0.05, offset=-10.0, did=1)
    b.wave(3, T0 + 2, [100, -100]).wave(4, T0 + 2, [200, 400])
    return gzip_bytes(b.bytes())


@fixture
def redeclared_offset():
    """A numeric (I16) and a wave (U8) declared again with another offset, gain unchanged."""
    b = _builder().device(1, "Primus", "Primus")
    b.track(1, NUM, I16, "CO2", gain=0.1, offset=0.0, did=1)
    b.track(2, WAVE, U8, "AWP", srate=25.0, gain=0.5, offset=-20.0, did=1)
    b.number(1, T0, 350).number(1, T0 + 1, 360).wave(2, T0, [40, 41, 255])
    b.track(3, NUM, I16, "CO2", gain=0.1, offset=5.0, did=1)
    b.track(4, WAVE, U8, "AWP", srate=25.0, gain=0.5, offset=-10.0, did=1)
    b.number(3, T0 + 2, 300).wave(4, T0 + 2, [40, 42])
    return gzip_bytes(b.bytes())


@fixture
def redeclared_fmt():
    """Declared again in another format: a wave F32 -> I16 (gain 0.5), a numeric U8 -> F64."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    b.track(1, WAVE, F32, "ART", srate=100.0, did=1).track(2, NUM, U8, "HR", gain=2.0, did=1)
    b.wave(1, T0, [80.5, 120.25]).number(2, T0, 30).number(2, T0 + 1, 255)
    b.track(3, WAVE, I16, "ART", srate=100.0, gain=0.5, offset=1.0, did=1)
    b.track(4, NUM, F64, "HR", did=1)
    b.wave(3, T0 + 1, [161, -32768, 240]).number(4, T0 + 2, 61.5)
    return gzip_bytes(b.bytes())


@fixture
def redeclared_five_times():
    """ECG declared five times: alike, new gain, first gain again, new gain and offset; HR 5x."""
    b = _builder().device(1, "SNUADC", "SNUADC")
    decls = [(0.01, 0.0), (0.01, 0.0), (0.02, 0.0), (0.01, 0.0), (0.25, 3.0)]
    for k, (gain, offset) in enumerate(decls):
        b.track(2 * k + 1, WAVE, I16, "ECG", srate=100.0, gain=gain, offset=offset, did=1)
        b.track(2 * k + 2, NUM, F32, "HR", did=1)
        for r in range(k + 1):
            t = T0 + 10 * k + r
            b.wave(2 * k + 1, t, [100 * k + r, -(100 * k + r)]).number(2 * k + 2, t, 60.0 + k)
    return gzip_bytes(b.bytes())


@fixture
def redeclared_interleaved():
    """Two devices named 'SNUADC' declare ECG with other gains; their records interleave."""
    b = _builder().device(1, "SNUADC", "SNUADC").device(2, "SNUADC", "SNUADC")
    b.track(1, WAVE, I16, "ECG", srate=100.0, gain=0.01, did=1)
    b.wave(1, T0, [100, 200])
    b.track(2, WAVE, I16, "ECG", srate=100.0, gain=0.02, did=2)
    for i in range(1, 4):
        b.wave(2, T0 + i, [i, -i, 50]).wave(1, T0 + i + 0.5, [10 * i])
    return gzip_bytes(b.bytes())


@fixture
def redeclared_new_rate_type():
    """A wave declared again at another sampling rate, a numeric declared again as a string."""
    b = _builder().device(1, "BIS", "BIS")
    b.track(1, WAVE, F32, "EEG", srate=128.0, did=1).track(2, NUM, F32, "SQI", did=1)
    b.wave(1, T0, [1.0, 2.0]).number(2, T0, 90.0).wave(1, T0 + 1, [3.0])
    b.track(3, WAVE, F32, "EEG", srate=256.0, did=1).track(4, STR, 0, "SQI", did=1)
    b.wave(3, T0 + 2, [4.0, 5.0, 6.0]).string(4, T0 + 2, "good")
    return gzip_bytes(b.bytes())


@fixture
def empty_recording():
    """10-byte header, a device and a track, no record: vitaldb's dtstart/dtend stay int 0."""
    b = VitalBuilder().header(dgmt=DGMT).device(1, "Solar8000M", "Solar8000")
    return gzip_bytes(b.track(1, NUM, F32, "HR", did=1).bytes())


@fixture
def tid_reused():
    """One tid declared as 'A', then as 'B': later records go to 'B', 'A' keeps its own."""
    b = _builder()
    b.track(1, NUM, F32, "A").number(1, T0, 1.0)
    b.track(1, NUM, F32, "B").number(1, T0 + 1, 2.0)
    return gzip_bytes(b.bytes())


@fixture
def unpacked_reclen_interleaved():
    """Unpacked, reclen set, records interleaved: with a selection vitaldb seeks past records."""
    rec_len = 5 + 12 + FMT_SIZE[F32]  # one numeric REC packet, header included
    b = _builder()
    b.track(1, NUM, F32, "A", reclen=3 * rec_len).track(2, NUM, F32, "B", reclen=3 * rec_len)
    for i in range(3):
        b.number(1, T0 + i, 1.0 + i).number(2, T0 + i, 10.0 + i)
    return gzip_bytes(b.bytes())


# ---- a plain recording, and the gzip damage done to it -----------------------


@functools.cache
def _typical():
    """Two devices, waves at 500/100 Hz, numerics, events and an order command
    over 10 s, one record per track per second. Returns the inflated bytes and
    the offset of the wave record for second 6, where the cuts below go."""
    rng = np.random.default_rng(20231114)
    b = VitalBuilder().header(
        dgmt=DGMT, instance_id=7, prog_version=0x2A070801, dtstart=T0, dtend=T0 + 10
    )
    b.device(1, "SNUADC", "SNUADC", "COM1").device(2, "Solar8000M", "Solar8000", "COM3")
    b.track(
        1,
        WAVE,
        I16,
        "ECG_II",
        unit="mV",
        mindisp=-1,
        maxdisp=2,
        srate=500.0,
        gain=0.001,
        offset=0.0,
        did=1,
        upto="did",
    )  # recorder files stop at did
    b.track(2, WAVE, F32, "ART", unit="mmHg", maxdisp=200, srate=100.0, did=1, upto="did")
    b.track(3, NUM, F32, "HR", unit="/min", maxdisp=200, did=2, upto="did")
    b.track(4, NUM, F32, "NIBP_SBP", unit="mmHg", maxdisp=200, did=2, upto="did")
    b.track(5, STR, F32, "EVENT", upto="did")
    b.order([1, 2, 3, 4, 5])
    mark = None
    t = np.arange(500) / 500.0
    for s in range(10):
        if s == 6:
            mark = len(b)
        ecg = np.round(800 * np.sin(2 * np.pi * 1.2 * (s + t)) + rng.normal(0, 20, 500))
        b.wave(1, T0 + s, ecg.astype(int).tolist())
        art = 80 + 40 * np.sin(2 * np.pi * 1.2 * (s + t[::5]))
        b.wave(2, T0 + s, np.float32(art).tolist())
        b.number(3, T0 + s + 0.5, float(70 + s % 3))
        if s % 5 == 0:
            b.number(4, T0 + s, 120.0 + s)
        if s in (2, 7):
            b.string(5, T0 + s, f"event at {s} s")
    return b.bytes(), mark


@fixture
def typical():
    """A plain unpacked recording: two devices, 500/100 Hz waves, numerics, events, order."""
    return gzip_bytes(_typical()[0])


@fixture
def gzip_multi_member():
    """typical split into 4 gzip members at arbitrary (mid-packet) offsets, plus an empty member."""
    data = _typical()[0]
    half = len(data) // 2
    return gzip_bytes(data[:half], 2) + gzip_member(b"") + gzip_bytes(data[half:], 2)


@fixture
def gzip_level0():
    """typical in stored (level 0) deflate blocks."""
    return gzip_bytes(_typical()[0], level=0)


@fixture
def gzip_header_fields():
    """typical in a member whose header has FEXTRA, FNAME, FCOMMENT and FHCRC."""
    return gzip_member(
        _typical()[0],
        extra=b"VD\x02\x00hi",
        fname=b"typical.vital",
        comment=b"fixture",
        header_crc=True,
    )


@fixture
def gzip_cut_mid_packet():
    """Recorder killed mid-packet: flushed deflate, no final block nor trailer, ends in a record."""
    data, mark = _typical()
    return gzip_member(data[: mark + 5 + 100], finish=False)


@fixture
def gzip_cut_at_boundary():
    """Recorder killed between packets: flushed deflate, no final block or trailer."""
    data, mark = _typical()
    return gzip_member(data[:mark], finish=False)


@fixture
def gzip_truncated_raw():
    """typical's gzip cut at an arbitrary compressed byte (60 %): the inflater yields a prefix."""
    gz = typical()
    return truncate(gz, len(gz) * 6 // 10)


@fixture
def gzip_no_trailer():
    """Complete deflate stream, 8-byte CRC/size trailer missing."""
    return truncate(typical(), -8)


@fixture
def gzip_bad_crc():
    """Trailer CRC wrong: vitaldb has read every packet before the check fails."""
    return gzip_member(_typical()[0], crc=0x12345678)


@fixture
def gzip_zero_padding():
    """512 zero bytes after the gzip member, as block devices pad files."""
    return typical() + bytes(512)


@fixture
def gzip_trailing_garbage():
    """Non-zero bytes after the gzip member: not a gzip header, vitaldb errors after all packets."""
    return typical() + b"garbage!"


@fixture
def inflated_ends_mid_body():
    """Gzip ends cleanly but the content stops 100 bytes into a wave record's body."""
    data, mark = _typical()
    return gzip_bytes(data[: mark + 5 + 100])


@fixture
def inflated_ends_mid_header():
    """Gzip ends cleanly but the content stops 3 bytes into a packet header: vitaldb errors."""
    data, mark = _typical()
    return gzip_bytes(data[: mark + 3])


# ---- files written by vitaldb itself -------------------------------------------


def _vitaldb():
    """vitaldb with the format fix that makes it the reference: its 'l'/'L'
    codes are 8 bytes in numpy and native struct on 64-bit Linux, the format
    says 4. Imported quietly: wfdb, which vitaldb imports, trips a pandas
    deprecation warning that pytest's filterwarnings=error would raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vitaldb.utils
    vitaldb.utils.FMT_TYPE_LEN[7] = ("i", 4)
    vitaldb.utils.FMT_TYPE_LEN[8] = ("I", 4)
    return vitaldb


def _written_by_vitaldb(vf):
    """vf.to_vital(packed=True), bytes kept as vitaldb's GzipFile wrote them
    (FNAME included) except the mtime, which is the wall clock: zeroed. The
    gzip header has no checksum (no FHCRC), so the member stays valid."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "packed.vital")
        vf.to_vital(path, packed=True)
        with open(path, "rb") as f:
            gz = bytearray(f.read())
    gz[4:8] = bytes(4)
    return bytes(gz)


def read_with_vitaldb(gz, **kwargs):
    """vitaldb.VitalFile of the bytes ``gz`` (kwargs: track_names, header_only,
    ...) and whatever it printed: it reports a failed load only by printing.
    load_vital never closes the file it opens; the ResourceWarning that raises
    when the file object dies is vitaldb's, so it is silenced here."""
    vitaldb = _vitaldb()
    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "in.vital")  # vitaldb picks its parser by suffix
        with open(path, "wb") as f:
            f.write(gz)
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
            warnings.simplefilter("ignore", ResourceWarning)
            vf = vitaldb.VitalFile(path, **kwargs)
    return vf, printed.getvalue()


@fixture
def vitaldb_packed_many():
    """vitaldb to_vital(packed=True): 4 numeric, 1 string, 3 wave tracks; selections stop early."""
    vf = _vitaldb().VitalFile()
    vf.dtstart, vf.dtend, vf.dgmt = T0, T0 + 20, DGMT  # VitalFile() stamps the wall clock
    rng = np.random.default_rng(7)
    for name, srate, seconds in (
        ("SNUADC/ECG_II", 500, (0, 1, 2, 5, 6)),  # gap: NaN-filled
        ("SNUADC/PLETH", 100, range(10)),
        ("Primus/CO2", 25, range(20)),
    ):
        recs = [{"dt": T0 + s, "val": np.float32(rng.normal(0, 1, srate))} for s in seconds]
        vf.add_track(name, recs, srate=srate, unit="mV")
    for name, base in (
        ("Solar8000/HR", 70),
        ("Solar8000/SPO2", 98),
        ("Solar8000/NIBP_SBP", 120),
        ("Orchestra/PPF20_CE", 3),
    ):
        vf.add_track(
            name,
            [
                {"dt": T0 + 20 - s, "val": base + s / 10}  # reversed: packing sorts
                for s in range(0, 20, 2)
            ],
        )
    vf.add_track("EVENT", [{"dt": T0 + 3, "val": "Intubation"}, {"dt": T0 + 1, "val": "Start"}])
    return _written_by_vitaldb(vf)


@fixture
def vitaldb_repacked_typical():
    """typical read by vitaldb and written back with to_vital(packed=True)."""
    return _written_by_vitaldb(read_with_vitaldb(typical())[0])


@fixture
def vitaldb_repacked_all_fmts():
    """Every fmt as wave and numeric, read by vitaldb, written back packed (gaps: sentinels)."""
    b = _builder().device(1, "DEV", "DEV")
    _add_all_fmt_waves(b, did=1)
    _add_all_fmt_numbers(b, did=1)
    return _written_by_vitaldb(read_with_vitaldb(gzip_bytes(b.bytes()))[0])


# ---- where vitaldb loses data ---------------------------------------------------

RECOVERY_NOTES = {
    "record_over_1mb": "stops at the 1,000,001-byte record: BIG 0 recs, N 1 of 2, AFTER never declared",
    "header_27_flag_2": "as record_over_1mb: packed byte 2 does not lift the limit",
    "zero_length_packet": "reads the empty body as end of file: N 1 of 2, AFTER never declared",
    "redeclared_same_meta": "the re-declaration replaces the track: HR keeps 3 of 6 records, loses the first 3",
    "redeclared_new_fmt": "ECG and HR lose their first record; later F32 records of the old tids decode as I16",
    "redeclared_wave_compatible": "ECG keeps its last 2 of 3 records, NOTE 1 of 2",
    "redeclared_gain": "ECG keeps 1 of 3 records, PLETH 1 of 2: the records before the new gain are lost",
    "redeclared_offset": "CO2 keeps 1 of 3 records, AWP 1 of 2",
    "redeclared_fmt": "ART keeps 1 of 2 records, HR 1 of 3",
    "redeclared_five_times": "ECG and HR keep the last declaration's 5 of 15 records",
    "redeclared_interleaved": "ECG keeps the 6 records after the second declaration, the ones of did 1 read as its",
    "redeclared_new_rate_type": "EEG keeps 1 of 3 records (at 256 Hz), SQI becomes a string track of 1 record",
    "duplicate_device_name": "the second 'Monitor/HR' replaces the first: 2 of 4 records kept",
    "reset_events_then_redeclared": "EVENT keeps c, d: 'b' (after the reset, before the re-declaration) is lost",
    "trkinfo_partial_field": "struct error aborts the load (printed only): track RR and HR record 2 are lost",
    "order_count_overflow": "numpy error aborts the load (printed only): A record 2 and track B are lost",
    "unpacked_reclen_interleaved": "with track_names=['A'] only: B's records seek reclen ahead, A keeps 2 of 3",
    "gzip_cut_mid_packet": "no trailer, content ends mid-record: complete packets kept, the cut one dropped unsaid",
    "gzip_truncated_raw": "as gzip_cut_mid_packet, cut at an arbitrary compressed byte",
    "inflated_ends_mid_body": "clean gzip, content ends mid-record: the partial record is dropped unsaid",
}
RECOVERY = set(RECOVERY_NOTES)
assert FIXTURES.keys() >= RECOVERY


# ---- self-check -----------------------------------------------------------------


def _when(t):
    """A time relative to T0 when near it, else as is."""
    return f"T0{t - T0:+g}" if math.isfinite(t) and abs(t - T0) < 1e6 else f"{t:g}"


def main():
    start = time.perf_counter()
    blobs = {name: build() for name, build in FIXTURES.items()}
    print(f"{len(blobs)} fixtures built in {time.perf_counter() - start:.2f} s\n")
    for name, gz in blobs.items():
        vf, printed = read_with_vitaldb(gz)
        flag = "  RECOVERY: " + RECOVERY_NOTES[name] if name in RECOVERY else ""
        print(
            f"{name}  [{len(gz)} B]  {_when(vf.dtstart)} .. {_when(vf.dtend)}"
            f"  packed={vf.packed}{flag}"
        )
        if printed:
            print(f"    vitaldb printed: {printed.strip()}")
        for dtname, trk in vf.trks.items():
            print(f"    {dtname!r:28} type {trk.type} fmt {trk.fmt}: {len(trk.recs)} recs")
        if vf.order:
            print(f"    order {vf.order}")
        if vf.packets:
            print(f"    {len(vf.packets)} raw packets")


if __name__ == "__main__":
    main()
