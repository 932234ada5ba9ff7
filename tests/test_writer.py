"""The .vital writer: round trips, vitaldb reading what it writes, vitaldb's own bytes.

``read(write(vf))`` must give ``vf`` back for every fixture and real file; vitaldb must
read the same model from it; and a packed file's inflated bytes must be vitaldb's
``to_vital(packed=True)`` bytes for the same recording, except exactly where vitaldb's
writer loses or garbles data (``as_vitaldb_writes`` undoes each of those differences,
and ``EXPECTED_FIXES`` says where each must occur).
"""

from __future__ import annotations

import gzip
import io
import struct
import warnings
import zlib

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, reference
from vitalproc.io import vital_writer as vital

from fixtures_catalog import FIXTURES
from parity import differences
from vitalbytes import F32, I8, I16, I32, NUM, STR, U8, WAVE, VitalBuilder, gzip_bytes

T0 = 1_700_000_000.0
REJECTED = {"bad_magic", "ends_after_version"}  # not .vital files: nothing to write
SOURCES = {
    **{name: build for name, build in FIXTURES.items() if name not in REJECTED},
    **{p.name: p.read_bytes for p in REAL_FILES},
}


def quiet_read(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(source, **kw)


def written(vf, **kw) -> bytes:
    out = io.BytesIO()
    vital.write(vf, out, **kw)
    return out.getvalue()


def gzip_members(gz: bytes) -> int:
    count = 0
    while gz:
        d = zlib.decompressobj(31)
        d.decompress(gz)
        assert d.eof
        gz, count = d.unused_data, count + 1
    return count


# ---- reading the packets of an inflated stream ----------------------------------------------


def split_packets(inflated: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    (hlen,) = struct.unpack_from("<H", inflated, 8)
    pos, out = 10 + hlen, []
    while pos < len(inflated):
        ptype, plen = struct.unpack_from("<BI", inflated, pos)
        out.append((ptype, inflated[pos + 5 : pos + 5 + plen]))
        pos += 5 + plen
    assert pos == len(inflated)
    return inflated[: 10 + hlen], out


def vstr_at(body: bytes, pos: int) -> tuple[bytes, int]:
    (n,) = struct.unpack_from("<I", body, pos)
    return body[pos + 4 : pos + 4 + n], pos + 4 + n


def trkinfo_did_pos(body: bytes) -> int:
    _, pos = vstr_at(body, 4)  # name
    _, pos = vstr_at(body, pos)  # unit
    return pos + 33  # mindisp, maxdisp, col, srate, gain, offset, montype


def raw_packet(p) -> tuple[int, bytes]:
    body = (
        struct.pack("<d", p["dt"])
        + struct.pack("<I", len(p["sport"].encode()))
        + p["sport"].encode()
        + struct.pack("<BI", p["bsent"], len(p["buf"]))
        + p["buf"]
    )
    return 10, body


def as_vitaldb_writes(packets, vf):
    """Our packets with each deliberate difference from vitaldb's writer undone; and which
    differences were found."""
    fixes = set()
    packets = list(packets)
    # 1. vitaldb drops raw device packets; we write them last.
    if vf.packets:
        tail = packets[-len(vf.packets) :]
        assert tail == [raw_packet(p) for p in vf.packets]
        packets = packets[: -len(vf.packets)]
        fixes.add("raw_packets")
    # 2. vitaldb drops a device named '' (its tracks then have no device).
    blank = [
        i for i, (t, b) in enumerate(packets) if t == 9 and vstr_at(b, vstr_at(b, 4)[1])[0] == b""
    ]
    if blank:
        (i,) = blank
        (gone,) = struct.unpack_from("<I", packets[i][1], 0)
        del packets[i]
        fixes.add("blank_device")
        for k, (t, b) in enumerate(packets):
            pos = 0 if t == 9 else trkinfo_did_pos(b) if t == 0 else None
            if pos is not None:
                (did,) = struct.unpack_from("<I", b, pos)
                did = 0 if did == gone else did - (did > gone)
                packets[k] = (t, b[:pos] + struct.pack("<I", did) + b[pos + 4 :])
    # 3. vitaldb's struct round trip quiets signalling NaNs of float32 numerics.
    f32_numerics = {
        struct.unpack_from("<H", b)[0] for t, b in packets if t == 0 and b[2] == NUM and b[3] == F32
    }
    for k, (t, b) in enumerate(packets):
        if t == 1 and struct.unpack_from("<H", b, 10)[0] in f32_numerics:
            (bits,) = struct.unpack_from("<I", b, 12)
            if bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF and not bits & 0x400000:
                packets[k] = (t, b[:12] + struct.pack("<I", bits | 0x400000))
                fixes.add("signalling_nan")
    return packets, fixes


#: Where vitalproc's bytes differ from vitaldb's, by design (module docstring of
#: vitalproc.io.vital_writer); every other file must give vitaldb's bytes exactly.
EXPECTED_FIXES = {
    "numeric_all_fmts": {"signalling_nan"},
    "device_empty_name": {"blank_device"},
    "raw_packets": {"raw_packets"},
    "raw_packets_short": {"raw_packets"},
}


def assert_vitaldb_bytes(ref, ours, name, tmp_path, packed=True):
    """vitaldb's ``to_vital`` of its model and ours of ours, compared packet by packet."""
    path = tmp_path / "vitaldb.vital"
    ref.to_vital(str(path), packed=packed)
    head_v, packets_v = split_packets(gzip.decompress(path.read_bytes()))
    head_o, packets_o = split_packets(gzip.decompress(written(ours, packed=packed)))
    assert head_o == head_v
    undone, fixes = as_vitaldb_writes(packets_o, ours)
    assert fixes == EXPECTED_FIXES.get(name, set())
    assert len(undone) == len(packets_v)
    for k, (mine, theirs) in enumerate(zip(undone, packets_v, strict=True)):
        assert mine == theirs, f"packet {k} (type {theirs[0]})"


# ---- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_round_trip(name):
    """Unpacked, every record comes back as it was; packed, packing is idempotent."""
    vf = quiet_read(SOURCES[name]())
    back = quiet_read(written(vf, packed=False))
    assert differences(vf, back) == (["packed: True != False"] if vf.packed else [])
    once = written(vf, packed=True, compresslevel=1)
    packed = quiet_read(once)
    assert packed.packed and differences(packed, quiet_read(written(packed))) == []
    assert gzip.decompress(written(packed, compresslevel=1)) == gzip.decompress(once)


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_vitaldb_reads_what_we_write(name, packed):
    vf = quiet_read(SOURCES[name](), compat="vitaldb")
    gz = written(vf, packed=packed)
    theirs = reference(gz)
    if not packed and name == "packed_record_over_1mb":
        # The 1,000,001-byte record kept from a packed file: vitaldb's reader stops at it
        # in an unpacked file, as it does in the files its own writer makes.
        assert differences(theirs, quiet_read(gz)) == [
            "BIG: 0 records in vitaldb, 1 here",
            "AFTER: 0 records in vitaldb, 1 here",
        ]
        return
    assert differences(theirs, quiet_read(gz)) == []
    if not packed:
        assert differences(theirs, vf) == (["packed: False != True"] if vf.packed else [])


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_bytes_equal_vitaldb_where_it_is_right(name, packed, tmp_path):
    gz = SOURCES[name]()
    ref, ours = reference(gz), quiet_read(gz, compat="vitaldb")
    assert differences(ref, ours) == []  # the same recording in both
    assert_vitaldb_bytes(ref, ours, name, tmp_path, packed)


def messy_waves() -> bytes:
    """Packing's hard cases: unsorted, gapped, overlapping, duplicated, empty and
    half-sample records in several formats; a wave without a rate; unsorted numerics
    and strings, one numeric with a NaN time."""
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 10)
    b.device(1, "Dev", "Dev")
    layout = [
        (T0 + 2.0, 10),
        (T0, 10),
        (T0 + 0.5, 10),
        (T0 + 0.5, 3),
        (T0 + 6.0, 0),
        (T0 + 4.25, 5),
        (T0 + 4.05, 7),
        (T0 + 7.0, 4),
    ]
    for tid, fmt in enumerate((I16, U8, F32, I32, I8), start=1):
        b.track(tid, WAVE, fmt, f"W{fmt}", srate=10.0, did=1)
        for k, (dt, n) in enumerate(layout):
            b.wave(tid, dt, [(k * 10 + i) % 100 for i in range(n)])
    b.track(6, WAVE, I16, "NORATE", srate=0.0, did=1)
    b.wave(6, T0 + 3, [1, 2]).wave(6, T0 + 1, [3])
    b.track(7, NUM, F32, "N", did=1)
    for dt in (T0 + 3, float("nan"), T0 + 1, T0 + 2, T0 + 1):
        b.number(7, dt, dt - T0 if dt == dt else -1.0)
    b.track(8, STR, F32, "S")
    b.string(8, T0 + 5, "late").string(8, T0 + 1, "early")
    b.order([8, 1])
    return gzip_bytes(b.bytes())


@pytest.mark.parametrize("block", [vital.PACK_BLOCK, 3, 16])
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_packing_hard_cases_as_vitaldb(block, monkeypatch, tmp_path):
    monkeypatch.setattr(vital, "PACK_BLOCK", block)
    gz = messy_waves()
    ref, ours = reference(gz), quiet_read(gz)
    assert differences(ref, ours) == []
    assert_vitaldb_bytes(ref, ours, "messy_waves", tmp_path)
    back = quiet_read(written(ours))
    w = back.trks["Dev/W5"]
    assert len(w) == 1 and w.dt[0] == T0 and len(w.samples) == 74  # to T0 + 7.4 s
    # 0.5 s in, the later-sorted 3-sample record overwrote the 10-sample one; 1.5-2.0 s: gap
    assert w.samples[:10].tolist() == [10, 11, 12, 13, 14, 30, 31, 32, 23, 24]
    assert (w.samples[15:20] == -32768).all()
    assert back.trks["Dev/NORATE"].dt.tolist() == [T0 + 3, T0 + 1]  # kept as is


def test_packed_wave_fill_uses_the_format_sentinel():
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 4
    for name, samples in (
        ("D/A", np.int16([1, 2])),
        ("D/B", np.uint8([1, 2])),
        ("D/C", np.float32([1, 2])),
    ):
        trk = vf.add_track(name, dt=[T0, T0 + 2], samples=samples.reshape(2, 1), srate=1)
        trk.fmt, trk.data = {"i": 5, "u": 4, "f": 1}[samples.dtype.kind], samples
    back = quiet_read(written(vf))
    assert back.trks["D/A"].samples.tolist() == [1, -32768, 2]
    assert back.trks["D/B"].samples.tolist() == [1, 255, 2]
    assert np.isnan(back.trks["D/C"].samples[1])
    assert np.isnan(back.trks["D/A"].to_numpy(physical=True)[1])


@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_float64_samples_of_a_fmt1_track(vitaldb, tmp_path):
    """vitaldb's one writer bug that survives the FMT 7/8 fix: in an unpacked file it
    writes the bytes of a float64 array under fmt 1 (4-byte floats). Packed, it casts."""

    def build(module):
        vf = module.VitalFile()
        vf.dtstart, vf.dtend, vf.dgmt = T0, T0 + 3, -540
        vf.add_track(
            "D/W", [{"dt": T0 + s, "val": np.arange(4.0) + s + 0.1} for s in range(3)], srate=4
        )
        vf.add_track("D/N", [{"dt": T0 + 1, "val": 1.1}, {"dt": T0, "val": 2.2}])
        return vf

    ref, ours = build(vitaldb), build(vitalproc)
    assert_vitaldb_bytes(ref, ours, "float64", tmp_path, packed=True)
    path = tmp_path / "unpacked.vital"
    ref.to_vital(str(path), packed=False)
    _, theirs = split_packets(gzip.decompress(path.read_bytes()))
    _, mine = split_packets(gzip.decompress(written(ours, packed=False)))
    differ = [k for k, (a, b) in enumerate(zip(theirs, mine, strict=True)) if a != b]
    waves = [k for k, (t, b) in enumerate(mine) if t == 1 and b[10] == 1]  # tid 1 = D/W
    # Only the wave records: vitaldb's declared block length counts 4 bytes a sample.
    assert len(theirs) == len(mine) and differ == waves and len(waves) == 3
    for k in waves:  # same record headers and counts; the samples as doubles vs floats
        assert theirs[k][1][12:16] == mine[k][1][12:16] == struct.pack("<I", 4)
        doubles = np.frombuffer(theirs[k][1][16:], np.float64)
        assert mine[k][1][16:] == doubles.astype(np.float32).tobytes()
    garbled = reference(path.read_bytes()).trks["D/W"].recs[0]["val"]
    assert not np.allclose(garbled, [0.1, 1.1, 2.1, 3.1])
    back = reference(written(ours, packed=False)).trks["D/W"].recs[0]["val"]
    assert back.tolist() == np.float32([0.1, 1.1, 2.1, 3.1]).tolist()


EDITS = {
    "crop": lambda vf: vf.crop(T0 + 2.5, T0 + 6),
    "rename_device": lambda vf: vf.rename_device("SNUADC", "ADC"),
    "rename_track_without_device": lambda vf: vf.rename_track("EVENT", "EV"),
    "remove_track": lambda vf: vf.remove_track("ART"),
    "add_tracks": lambda vf: (
        vf.add_track("Vent/PEEP", [{"dt": T0 + 3, "val": 5.0}, {"dt": T0 + 1, "val": 6.5}]),
        vf.add_track("NOTE", [{"dt": T0 + 2, "val": "note"}], after="SNUADC/ART"),
        vf.add_track(
            "SNUADC/CVP",
            [{"dt": T0 + s, "val": np.float32([s, s + 0.5])} for s in (4, 1, 2)],
            srate=2,
        ),
    ),
    "anonymize": lambda vf: vf.anonymize(),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_edited_recording_written_as_vitaldb(edit, tmp_path):
    gz = FIXTURES["typical"]()
    ref, ours = reference(gz), quiet_read(gz)
    ref_result, our_result = EDITS[edit](ref), EDITS[edit](ours)
    ref = ref_result if hasattr(ref_result, "trks") else ref
    ours = our_result if hasattr(our_result, "trks") else ours
    assert_vitaldb_bytes(ref, ours, edit, tmp_path)
    assert_vitaldb_bytes(ref, ours, edit, tmp_path, packed=False)


# ---- the stream: members, levels ---------------------------------------------------------


@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_many_gzip_members_read_as_one_stream(monkeypatch):
    monkeypatch.setattr(vital, "MEMBER_BYTES", 1000)
    vf = quiet_read(FIXTURES["typical"]())
    gz = written(vf, packed=False)
    assert gzip_members(gz) > 10
    assert differences(reference(gz), vf) == []
    assert differences(quiet_read(gz), vf) == []


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_levels_change_only_the_compression(level):
    vf = quiet_read(FIXTURES["typical"]())
    assert gzip.decompress(written(vf, compresslevel=level)) == gzip.decompress(written(vf))


def test_zlib_without_libdeflate(monkeypatch):
    vf = quiet_read(FIXTURES["typical"]())
    expected = gzip.decompress(written(vf))
    monkeypatch.setitem(__import__("sys").modules, "deflate", None)
    assert gzip.decompress(written(vf)) == expected


@pytest.mark.parametrize("level", [10, -1, 9.0, "9", None])
def test_bad_compresslevel(level, tmp_path):
    vf = quiet_read(FIXTURES["typical"]())
    with pytest.raises(ValueError, match="compresslevel"):
        vf.to_vital(tmp_path / "x.vital", compresslevel=level)
    assert list(tmp_path.iterdir()) == []


# ---- files: temporary name, failures ---------------------------------------------------------


def test_to_vital_writes_a_path(tmp_path):
    vf = quiet_read(FIXTURES["typical"]())
    target = tmp_path / "out.vital"
    assert vf.to_vital(str(target)) is None
    assert gzip.decompress(target.read_bytes()) == gzip.decompress(written(vf))
    assert [p.name for p in tmp_path.iterdir()] == ["out.vital"]


@pytest.mark.parametrize(
    "where, error",
    [
        ("missing/out.vital", FileNotFoundError),
        ("a_file/out.vital", NotADirectoryError),
        ("a_dir", IsADirectoryError),
    ],
)
def test_unwritable_path_leaves_nothing(tmp_path, where, error):
    (tmp_path / "a_file").write_bytes(b"keep")
    (tmp_path / "a_dir").mkdir()
    vf = quiet_read(FIXTURES["typical"]())
    with pytest.raises(error):
        vf.to_vital(tmp_path / where)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_dir", "a_file"]
    assert list((tmp_path / "a_dir").iterdir()) == []


def test_failure_mid_stream_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.vital"
    target.write_bytes(b"the previous version")
    calls = []

    def failing(level):
        def compress(data):
            calls.append(len(data))
            if len(calls) == 3:
                raise OSError("disk full")
            return gzip.compress(bytes(data))

        return compress

    monkeypatch.setattr(vital, "MEMBER_BYTES", 1000)
    monkeypatch.setattr(vital, "_compressor", failing)
    vf = quiet_read(FIXTURES["typical"]())
    with pytest.raises(OSError, match="disk full"):
        vf.to_vital(target)
    assert len(calls) >= 3
    assert target.read_bytes() == b"the previous version"
    assert [p.name for p in tmp_path.iterdir()] == ["out.vital"]


def edited(change):
    vf = quiet_read(FIXTURES["typical"]())
    change(vf)
    return vf


@pytest.mark.parametrize(
    "vf, message",
    [
        (edited(lambda vf: setattr(vf.trks["SNUADC/ECG_II"], "fmt", 9)), "fmt 9"),
        (edited(lambda vf: setattr(vf.trks["Solar8000/HR"], "fmt", 0)), "fmt 0"),
        (edited(lambda vf: setattr(vf, "dgmt", 40000)), "dgmt"),
        (edited(lambda vf: setattr(vf.trks["EVENT"], "col", -1)), "EVENT"),
        (edited(lambda vf: vf.trks["SNUADC/ART"].dt.__setitem__(3, np.nan)), "non-finite"),
        (edited(lambda vf: setattr(vf.trks["SNUADC/ART"], "srate", float("nan"))), "NaN"),
        (edited(lambda vf: vf.trks["SNUADC/ART"].dt.__setitem__(3, T0 + 1e9)), "span"),
    ],
    ids=["wave_fmt", "numeric_fmt", "dgmt", "col", "nan_time", "nan_rate", "too_long"],
)
def test_what_cannot_be_written_raises_before_writing(vf, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        vf.to_vital(tmp_path / "out.vital")
    assert list(tmp_path.iterdir()) == []


# ---- the corpus ---------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_corpus_icu_1h(corpus, tmp_path):
    path = corpus["icu_1h"]
    vf = quiet_read(path)
    assert differences(vf, quiet_read(written(vf, packed=False, compresslevel=1))) == []
    assert_vitaldb_bytes(reference(path), vf, "icu_1h", tmp_path)
