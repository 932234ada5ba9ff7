"""Hostile input: each fault class's contract, strict mode, bounded memory, threads.

``tests/test_malformed.py`` holds the first table of defective inputs; this file covers
the fault classes and guarantees it does not (``docs/robustness.md`` maps every class to
its tests): a cut at any point, strict mode at every fault, trailer and header edge cases,
a track id reused with another type, records that lie about their size, gzip members the
fuzzer found trouble with, memory under a gzip bomb, many reads at once from many threads,
and two processes converting into one dataset.
"""

from __future__ import annotations

import gzip
import random
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

import vitalproc
from conftest import REAL_FILES, REPO, reference
from vitalproc import VitalFormatError, VitalWarning

from fixtures_catalog import FIXTURES
from parity import differences
from vitalbytes import F32, I16, NUM, STR, WAVE, VitalBuilder, gzip_bytes, gzip_member

sys.path.insert(0, str(REPO))  # the fuzz package: its oracle compares models bit for bit
from fuzz.contract import model_differences, records

GOOD = REAL_FILES[0].read_bytes()
T0 = 1_700_000_000.0


def quiet_read(source, **options):
    """``read`` with its VitalWarnings swallowed (the tests check ``vf.warnings``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VitalWarning)
        return vitalproc.read(source, **options)


def kept(vf) -> dict[str, int]:
    return {name: len(t) for name, t in vf.trks.items()}


def small_recording() -> VitalBuilder:
    """A numeric, a wave and a string track, five records each, interleaved."""
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, NUM, F32, "HR").track(2, WAVE, I16, "W", srate=100.0).track(3, STR, F32, "S")
    for i in range(5):
        b.number(1, T0 + i, 60.0 + i)
        b.wave(2, T0 + i, [i] * 100)
        b.string(3, T0 + i, f"event {i}")
    return b


def corrupt_mid_stream(gz: bytes) -> bytes:
    """``gz`` with 64 bytes overwritten where zlib finds invalid deflate data well before
    the trailer (many overwrites inflate as garbage and only fail the CRC)."""
    for start in range(len(gz) // 3, 2 * len(gz) // 3, 61):
        bad = bytearray(gz)
        bad[start : start + 64] = b"\xaa" * 64
        d = zlib.decompressobj(wbits=31)
        try:
            for i in range(0, len(bad), 256):
                d.decompress(bytes(bad[i : i + 256]))
        except zlib.error:
            if i < len(gz) - 512:
                return bytes(bad)
    raise AssertionError("no mid-stream corruption found")


def assert_strict_raises_at_first_warning(source, vf) -> None:
    """strict=True stops at the fault the default read reported first, with its offset."""
    first = vf.warnings[0]
    with pytest.raises(VitalFormatError) as err:
        vitalproc.read(source, strict=True)
    assert (err.value.offset, err.value.where) == (first.offset, first.where)
    assert str(err.value).startswith(first.message)


# -- every fault class: default returns the data before the fault, strict raises there -----


def _cut_gzip():
    return GOOD[: len(GOOD) * 2 // 3]


def _corrupt_deflate():
    return corrupt_mid_stream(GOOD)


def _crc_mismatch():
    bad = bytearray(GOOD)
    bad[-8] ^= 0x01
    return bytes(bad)


def _isize_mismatch():
    bad = bytearray(GOOD)
    bad[-4] ^= 0x01
    return bytes(bad)


def _packet_past_the_end():
    raw = small_recording().bytes()
    return gzip_bytes(raw[:-3])  # the last string record claims 3 bytes it does not have


def _length_ffffffff():
    b = small_recording()
    b.number(1, T0 + 9, 69.0, length=0xFFFFFFFF)
    b.number(1, T0 + 10, 70.0)
    return gzip_bytes(b.bytes())


def _zero_length_packets():
    b = small_recording()
    b.packet(6, b"").packet(6, b"")
    b.number(1, T0 + 9, 69.0)
    return gzip_bytes(b.bytes())


def _sample_count_past_its_packet():
    b = small_recording()
    b.wave(2, T0 + 9, [1, 2, 3], nsamp=7)  # claims 7 samples, holds 3
    b.number(1, T0 + 9, 69.0)
    return gzip_bytes(b.bytes())


def _header_length_0():
    b = VitalBuilder().raw_header(b"")
    b.track(1, NUM, F32, "HR").number(1, T0, 60.0)
    return gzip_bytes(b.bytes())


def _redeclared():
    b = small_recording()
    b.track(7, NUM, F32, "HR")  # the same track under a new id: a device reconnected
    b.number(7, T0 + 9, 69.0)
    return gzip_bytes(b.bytes())


def _trailing_garbage():
    return GOOD + b"\x00\x01garbage"


# name -> (file, warning code, records kept per track or None for "a strict prefix")
FAULTS = {
    "truncated gzip": (_cut_gzip, "truncated", None),
    "corrupt deflate block mid-stream": (_corrupt_deflate, "corrupt", None),
    "CRC trailer mismatch": (_crc_mismatch, "corrupt", "all"),
    "length trailer mismatch": (_isize_mismatch, "corrupt", "all"),
    "trailing bytes": (_trailing_garbage, "trailing", "all"),
    "last packet past the end": (_packet_past_the_end, "short_packet", {"HR": 5, "W": 5, "S": 5}),
    # The lying record itself is read (its bytes are there); the one after is swallowed.
    "length 0xFFFFFFFF": (_length_ffffffff, "big_packet", {"HR": 6, "W": 5, "S": 5}),
    "packets of length 0": (_zero_length_packets, "malformed_packet", {"HR": 6, "W": 5, "S": 5}),
    "wave sample count past its packet": (
        _sample_count_past_its_packet,
        "short_record",
        {"HR": 6, "W": 5, "S": 5},
    ),
    "header length 0": (_header_length_0, "short_header", {"HR": 1}),
    "track declared again": (_redeclared, "redeclared_track", {"HR": 6, "W": 5, "S": 5}),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_keeps_data_before_it_and_strict_raises_there(name):
    build, code, expected = FAULTS[name]
    source = build()
    with pytest.warns(VitalWarning) as caught:
        vf = vitalproc.read(source)
    assert code in [w.code for w in vf.warnings]
    assert len(caught) == len(vf.warnings)
    for issue in vf.warnings:  # every warning says where: an offset in a named stream
        assert issue.offset is not None and issue.offset >= 0, issue
        assert issue.where in ("inflated", "compressed")
        if issue.where == "compressed":
            assert issue.offset <= len(source)
    if expected == "all":
        assert model_differences(vitalproc.read(GOOD), vf) == []
    elif expected is not None:
        assert kept(vf) == expected
    else:
        full = vitalproc.read(GOOD)
        assert 0 < sum(kept(vf).values()) < sum(kept(full).values())
    assert_strict_raises_at_first_warning(source, vf)


@pytest.mark.parametrize("data", [b"", b"\x1f"], ids=["zero bytes", "one byte"])
def test_tiny_files_raise_in_both_modes(data):
    for strict in (False, True):
        with pytest.raises(VitalFormatError) as err:
            vitalproc.read(data, strict=strict)
        assert (err.value.offset, err.value.where) == (0, "compressed")


# -- truncation at any point ----------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_cut_anywhere_keeps_every_complete_packet_before_the_cut(stream, monkeypatch):
    """At 40 cut points: an error inside the file header, else a prefix of every track
    (nothing after the cut, nothing before it lost but the one packet it splits)."""
    if stream:
        monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
        monkeypatch.setattr(vitalproc.io._source, "CHUNK", 509)
    full = vitalproc.read(GOOD)
    whole = {name: records(t) for name, t in full.trks.items()}
    for cut in range(1, len(GOOD), len(GOOD) // 40):
        part = GOOD[:cut]
        try:
            vf = quiet_read(part)
        except VitalFormatError as err:
            assert "header" in str(err) or "not a gzip" in str(err), (cut, err)
            assert err.where == "compressed"
            continue
        (issue,) = vf.warnings
        assert (issue.code, issue.where, issue.offset) == ("truncated", "compressed", cut)
        for name, t in vf.trks.items():
            got = records(t)
            assert got == whole[name][: len(got)], (cut, name)
        # What a clean file of the same inflated prefix reads, but for the split packet.
        prefix = zlib.decompressobj(wbits=31).decompress(part)
        clean = quiet_read(gzip.compress(prefix), compat="vitaldb")
        assert sum(kept(vf).values()) >= sum(kept(clean).values()) - 1, cut


# -- gzip trailer, header and packet edge cases ---------------------------------------


def test_header_length_65535_is_read():
    """The largest header a u16 can declare, complete: the packets after it are read."""
    b = VitalBuilder().raw_header(struct.pack("<hII", -540, 0, 0) + bytes(65535 - 10))
    b.track(1, NUM, F32, "HR").number(1, T0, 60.0).number(1, T0 + 1, 61.0)
    gz = gzip_bytes(b.bytes())
    vf = vitalproc.read(gz, strict=True)
    assert vf.dgmt == -540 and vf.trks["HR"].values.tolist() == [60.0, 61.0]
    assert differences(reference(gz), vf) == []


def test_track_id_reused_with_another_type():
    """tid 1 is a numeric 'A', then a wave 'B' (a device reconnected with new tracks)."""
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, NUM, F32, "A").number(1, T0, 1.0).number(1, T0 + 1, 2.0)
    b.track(1, WAVE, I16, "B", srate=10.0).wave(1, T0 + 2, [7, 8, 9])
    gz = gzip_bytes(b.bytes())
    vf = vitalproc.read(gz, strict=True)
    assert vf.trks["A"].values.tolist() == [1.0, 2.0]
    assert vf.trks["B"].samples.tolist() == [7, 8, 9]
    assert differences(reference(gz), vf) == []
    # Reading only 'A': B's wave records are not filed under A (vitaldb decodes their
    # first bytes as an F32 value of A; compat mode does the same).
    assert quiet_read(gz, tracks=["A"]).trks["A"].values.tolist() == [1.0, 2.0]
    compat = quiet_read(gz, tracks=["A"], compat="vitaldb")
    assert differences(reference(gz, track_names=["A"]), compat) == []
    assert len(compat.trks["A"]) == 3


def test_wave_sample_count_past_its_packet():
    """A count the packet cannot hold (or that would need 16 GB): the record is skipped,
    as vitaldb skips it, nothing is allocated for it, and its neighbours are kept."""
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, WAVE, I16, "W", srate=100.0)
    b.wave(1, T0, [1, 2])
    b.wave(1, T0 + 1, [3, 4, 5], nsamp=4)  # one sample short
    b.wave(1, T0 + 2, [6], nsamp=0x7FFFFFFF)  # 4 GiB of int16 claimed
    b.wave(1, T0 + 3, [7, 8])
    gz = gzip_bytes(b.bytes())
    with pytest.warns(VitalWarning, match="2 records of wanted tracks"):
        vf = vitalproc.read(gz)
    t = vf.trks["W"]
    assert t.samples.tolist() == [1, 2, 7, 8] and t.offsets.tolist() == [0, 2, 4]
    assert t.samples.nbytes == 8
    assert differences(reference(gz), vf) == []


def test_record_that_lies_about_its_size_is_warned():
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, WAVE, I16, "W", srate=100.0)
    b.wave(1, T0, [1, 2], nsamp=3)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        vf = vitalproc.read(gzip_bytes(b.bytes()))
    (issue,) = vf.warnings
    assert issue.code == "short_record" and issue.count == 1
    assert b.bytes()[issue.offset] == 1  # the offset of the record packet itself
    assert len(vf.trks["W"]) == 0


def test_string_length_past_its_packet():
    """The text stops at the packet's end (vitaldb slices the same way); the next record
    is read from the next packet, not from the claimed length."""
    b = VitalBuilder().header(dgmt=0, dtstart=T0, dtend=T0 + 10)
    b.track(1, STR, F32, "S")
    b.string(1, T0, "first")
    b.string(1, T0 + 1, "cut", strlen=0xFFFFFFFF)
    b.string(1, T0 + 2, "last")
    gz = gzip_bytes(b.bytes())
    vf = vitalproc.read(gz)
    assert vf.trks["S"].texts() == ["first", "cut", "last"]
    assert differences(reference(gz), vf) == []


# -- gzip members (fuzz findings) ------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"header_crc": True},
        {"fname": b"case.vital", "comment": b"copied"},
        {"fname": b"case.vital", "extra": b"VD\x02\x00hi", "comment": b"x", "header_crc": True},
    ],
    ids=["FHCRC", "FNAME+FCOMMENT", "all four"],
)
def test_member_header_split_across_chunks(fields, monkeypatch):
    """ISA-L rejects a valid member whose header (with a header CRC, or two optional
    fields) arrives in two pieces; the inflater holds a header back until it is whole."""
    raw = small_recording().bytes()
    first = gzip_member(raw[:200])
    gz = first + gzip_member(raw[200:], **fields)  # the second header lies mid-chunk
    whole = vitalproc.read(gz, strict=True)
    monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    for chunk in (1, 3, 7, 11, 23, len(gz) // 3):
        monkeypatch.setattr(vitalproc.io._source, "CHUNK", chunk)
        assert model_differences(whole, vitalproc.read(gz, strict=True)) == [], chunk
    for cut in range(len(first) + 2, len(first) + 40):  # cut in (or just after) the header
        with pytest.raises(VitalFormatError, match="cut short"):
            vitalproc.read(gz[:cut], strict=True)


@pytest.mark.parametrize("padding", [1, 7, 10_000])
def test_zero_padding_between_members_is_skipped(padding, monkeypatch):
    """Zero bytes after a member, then another member: read on, as Python's gzip (so
    vitaldb) does; zeros then garbage: ``trailing`` at the first non-zero byte, whether
    the zeros and the garbage arrive in one chunk or two."""
    raw = small_recording().bytes()
    first = gzip_member(raw[:100])
    gz = first + bytes(padding) + gzip_member(raw[100:]) + bytes(padding)
    vf = vitalproc.read(gz, strict=True)
    assert kept(vf) == {"HR": 5, "W": 5, "S": 5}
    assert differences(reference(gz), vf) == []
    bad = first + bytes(padding) + b"junk"
    monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    for chunk in (len(first) + padding, 1 << 18):  # the garbage in the next chunk, or not
        monkeypatch.setattr(vitalproc.io._source, "CHUNK", chunk)
        with pytest.raises(VitalFormatError, match="not a gzip member") as err:
            vitalproc.read(bad, strict=True)
        assert err.value.offset == len(first) + padding


def test_many_small_members_cost_linear_work(monkeypatch):
    """A file of one-byte members: each step hands the inflater a bounded piece (here
    512 bytes, to see it in a small file), so the bytes it is given, and copies back at
    each member's end, grow linearly, not with the square of the members; and the walk
    gets a few gathered chunks, not one per member."""
    raw = small_recording().bytes()
    gz = b"".join(gzip.compress(raw[i : i + 1], 1, mtime=0) for i in range(len(raw)))
    real = vitalproc.io._inflate._stream_zlib
    given = []

    class Counting:
        def __init__(self, **kw):
            self._d = real.decompressobj(**kw)

        def decompress(self, data, max_length=0):
            given.append(len(data))
            return self._d.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self._d, name)

    class Module:
        error = real.error
        decompressobj = Counting

    monkeypatch.setattr(vitalproc.io._inflate, "_stream_zlib", Module)
    monkeypatch.setattr(vitalproc.io._inflate, "FEED_STEP", 512)
    chunks = list(vitalproc.io._inflate.Inflater((gz,)))
    assert b"".join(chunks) == raw and len(chunks) == 1 + len(raw) // (1 << 16)
    assert max(given) <= 512
    assert sum(given) <= 30 * len(gz), "quadratic: each member is given the whole rest"
    assert model_differences(vitalproc.read(gzip_bytes(raw)), vitalproc.read(gz)) == []


# -- gzip bombs and memory ------------------------------------------------------------


def test_max_inflated_bytes_boundary():
    """The limit counts inflated bytes: exactly the stream's size passes, one less fails."""
    size = len(gzip.decompress(GOOD))
    assert (
        model_differences(vitalproc.read(GOOD), vitalproc.read(GOOD, max_inflated_bytes=size)) == []
    )
    with pytest.raises(VitalFormatError, match=f"max_inflated_bytes={size - 1}") as err:
        vitalproc.read(GOOD, max_inflated_bytes=size - 1)
    assert err.value.where == "compressed"
    with pytest.raises(ValueError, match="max_inflated_bytes"):
        vitalproc.read(GOOD, max_inflated_bytes=-1)


_BOMB_SCRIPT = textwrap.dedent("""
    import resource, struct, sys, warnings, zlib
    import vitalproc
    lie = sys.argv[1] == "lie"
    head = b"VITA" + struct.pack("<IH", 3, 26) + struct.pack("<hIIdd", 0, 0, 0, 0.0, 0.0)
    if lie:  # a record claiming ~4 GiB, then zeros: the claim holds the rest back
        head += b"\\x01" + struct.pack("<I", 0xFFFFFFF0)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = comp.compress(head) + b"".join(comp.compress(bytes(1 << 20)) for _ in range(256))
    bomb += comp.flush()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    warnings.simplefilter("ignore")
    try:
        vf = vitalproc.read(bomb, max_inflated_bytes=int(sys.argv[2]) or None)
        outcome = ",".join(sorted({w.code for w in vf.warnings}))
    except vitalproc.VitalFormatError as exc:
        outcome = "limit" if "max_inflated_bytes" in str(exc) else str(exc)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(len(bomb), grew // 1024, outcome)
""")


def _read_bomb(kind: str, limit: int) -> tuple[int, int, str]:
    out = subprocess.run(
        [sys.executable, "-c", _BOMB_SCRIPT, kind, str(limit)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1]), out[2]


def test_gzip_bomb_memory_stays_bounded_without_a_limit():
    """256 MiB of zeros from a 256 kB file: read in bounded steps, not held whole."""
    size, grew_mb, outcome = _read_bomb("zeros", 0)
    assert size < 300_000
    assert outcome == "malformed_packet,short_packet"
    assert grew_mb < 64, f"peak RSS grew {grew_mb} MB"


def test_lying_length_bomb_is_stopped_by_the_limit():
    """Without a limit, a packet claiming 4 GiB holds the stream after it (up to its
    claim; docs/robustness.md); ``max_inflated_bytes`` bounds that too."""
    _, grew_mb, outcome = _read_bomb("lie", 16 << 20)
    assert outcome == "limit" and grew_mb < 64, f"peak RSS grew {grew_mb} MB"


# -- threads ----------------------------------------------------------------------------


def long_recording(minutes: int = 12) -> bytes:
    """Waves at 500 Hz in 1 s records and a numeric: about 2 MB inflated, so that the
    streaming read walks many chunks and packets straddle them."""
    rng = random.Random(6)
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 60 * minutes)
    b.device(1, "SNUADC").track(1, WAVE, I16, "ECG", srate=500.0, did=1)
    b.track(2, WAVE, I16, "ART", srate=500.0, did=1).track(3, NUM, F32, "HR", did=1)
    for s in range(60 * minutes):
        b.wave(1, T0 + s, [rng.randrange(-2000, 2000) for _ in range(500)])
        b.wave(2, T0 + s, [rng.randrange(0, 200) for _ in range(500)])
        b.number(3, T0 + s, 60.0 + s % 40)
    return gzip_bytes(b.bytes(), level=1)


def test_many_threads_read_many_files_as_one_at_a_time(tmp_path):
    """Every fixture, the real files and a streamed 2 MB recording, each read 3 times by
    8 threads at once in a shuffled order, equal the same reads one at a time (models and
    warnings). The walk releases the GIL, so this is where shared state would show."""
    big = tmp_path / "long.vital"
    big.write_bytes(long_recording())
    sources = {name: build() for name, build in FIXTURES.items()}
    sources.update((p.name, p.read_bytes()) for p in REAL_FILES)

    def read(name):
        if name == big.name:  # a file object: no size, so it streams in chunks
            with open(big, "rb") as f:
                return vitalproc.read(f)
        return vitalproc.read(sources[name])

    names = [*sources, big.name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VitalWarning)
        expected = {name: _outcome(read, name) for name in names}
        jobs = names * 3
        random.Random(4).shuffle(jobs)
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda name: _outcome(read, name), jobs))
    assert len(expected[big.name].trks["SNUADC/ECG"]) == 720
    for name, result in zip(jobs, got):
        want = expected[name]
        if isinstance(want, Exception):
            assert type(result) is type(want) and str(result) == str(want), name
        else:
            assert model_differences(want, result) == [], name
            assert want.warnings == result.warnings, name


def _outcome(read, name):
    try:
        return read(name)
    except VitalFormatError as exc:
        return exc


# -- two processes, one dataset -----------------------------------------------------------


def test_two_processes_converting_into_one_dataset(tmp_path):
    """Two ``vitalproc convert`` runs into one folder at once, over overlapping inputs:
    the second to start is refused while the first holds the folder, or runs after it;
    either way every source ends in the manifest once, every output reads back as its
    source, no temporary is left, and a third run completes what a refused one did not."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, build in FIXTURES.items():
        if isinstance(_outcome(lambda n: quiet_read(FIXTURES[n]()), name), vitalproc.VitalFile):
            (inputs / f"{name}.vital").write_bytes(build())
    long = long_recording(6)
    for k in range(4):  # the slow part: the other process starts while these convert
        (inputs / f"long_{k}.vital").write_bytes(long)
    everything = sorted(inputs.glob("*.vital"))
    halves = [everything[: len(everything) // 2 + 4], everything[len(everything) // 2 - 4 :]]
    dataset = tmp_path / "dataset"

    def convert(paths):
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vitalproc",
                "convert",
                "-o",
                str(dataset),
                "-j",
                "1",
                "-q",
                *map(str, paths),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )

    runs = [convert(half) for half in halves]
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in runs]
    for p in runs:
        p.stderr.close()
    done = []
    for (rc, err), half in zip(outcomes, halves):
        assert rc == 0 or (rc == 1 and "another conversion" in err), (rc, err)
        if rc == 0:
            done += half
    assert done, outcomes
    _check_dataset(dataset, done)
    rerun = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitalproc",
            "convert",
            "-o",
            str(dataset),
            "-j",
            "1",
            "-q",
            *map(str, everything),
        ],
        capture_output=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    _check_dataset(dataset, everything)


def _check_dataset(dataset, sources) -> None:
    from vitalproc.dataset.query import open_dataset

    ds = open_dataset(dataset)
    rows = ds.recordings.to_pylist()
    listed = [r["source"] for r in rows]
    assert len(listed) == len(set(listed)), "a source is listed twice"
    assert {str(s) for s in sources} <= set(listed)
    assert set(listed) <= {str(p) for p in dataset.parent.joinpath("in").glob("*.vital")}
    assert not list(dataset.glob(".*.tmp")), "a temporary was left behind"
    for row in rows:
        if row["status"] not in ("ok", "warned"):
            continue
        back = vitalproc.read(ds.case_path(row["caseid"]))
        source = quiet_read(row["source"])
        assert kept(back) == kept(source), row["source"]


# ---- copies and pickles of a fresh recording ------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
def test_a_fresh_recording_copies_and_pickles(how):
    """A recording just read holds the core's buffers (``Block``), not arrays yet. Cython's
    generated pickling of a ``Block`` carried its pointer as a bytes object, and the copy
    then freed memory it did not own: ``copy.deepcopy`` aborted the interpreter. Copies now
    hold the bytes, and read the same as the original."""
    import copy
    import pickle

    import numpy as np

    from vitalproc.io._parse import Walker

    path = REAL_FILES[0]
    vf = vitalproc.read(path)
    assert any(t._columns is not None for t in vf.trks.values())  # not materialized yet
    dup = {
        "pickle": lambda v: pickle.loads(pickle.dumps(v)),
        "deepcopy": copy.deepcopy,
        "copy": lambda v: copy.copy(v),
    }[how](vf)
    fresh = vitalproc.read(path)
    for name, trk in fresh.trks.items():
        got = dup.trks[name]
        assert np.array_equal(got.dt, trk.dt), name
        assert got.data.dtype == trk.data.dtype and got.data.tobytes() == trk.data.tobytes()
        assert (got.offsets is None) == (trk.offsets is None)
    with pytest.raises(TypeError):
        pickle.dumps(Walker())  # C state: never copied
