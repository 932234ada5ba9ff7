"""Reading converted recordings back: vitalproc and vitaldb, the dataset API, queries.

The writer (``writers/vitaldb_parquet``) is checked through what reads its files: every
fixture of the catalog read back from its Parquet file equals the .vital read, bit for
bit, where vitaldb's schema can hold it (``NOT_REPRESENTABLE`` says where it cannot);
vitaldb reads our files into the same ``to_numpy`` grids as it reads the .vital files
(its parquet reader's own quirks asserted as such, ``test_vitaldb_quirk_*``); and
vitaldb's own writer bugs are shown to exist, and not to exist here.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vitalproc
from conftest import REAL_FILES
from vitalproc.dataset import batch
from vitalproc.dataset import schema as vp
from vitalproc.dataset.case_reader import read_layout
from vitalproc.dataset.manifest import TRACKS_NAME
from vitalproc.dataset.query import open_dataset

from fixtures_catalog import FIXTURES, _vitaldb
from parity import differences

#: Fixtures that are no recording at all: their conversion fails (``test_batch``).
UNREADABLE = {"bad_magic", "ends_after_version"}

#: What vitaldb's long schema cannot hold, and how the read-back differs because of it.
NOT_REPRESENTABLE = {
    "raw_packets": "raw device data (packet type 10) has no column: packets are dropped",
    "raw_packets_short": "raw device data (packet type 10) has no column: packets are dropped",
    "string_values": "sval is text: a text with invalid UTF-8 is kept as vitaldb decodes it "
    "(bad bytes dropped), so texts() match but the raw bytes do not",
    "string_overflow": "sval is text: a text cut inside a UTF-8 sequence is kept as decoded",
}

#: Selections whose .vital span counts records the reader could not parse (too short),
#: which the Parquet file does not hold: only a full read's stored span counts them.
UNPARSED_RECORDS = {
    "invalid_fmt_and_type",
    "numeric_short",
    "wave_nsamp_mismatch",
    "string_overflow",
}


def quiet_vitaldb(test):
    """vitaldb never closes its files: the ResourceWarnings are vitaldb's."""
    test = pytest.mark.filterwarnings("ignore::ResourceWarning")(test)
    return pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")(test)


# ---- helpers ------------------------------------------------------------------------------


def read_quietly(source, **kwargs) -> vitalproc.VitalFile:
    """vitalproc.read, its VitalWarnings kept in vf.warnings only (checked there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(source, **kwargs)


def array_differences(a: vitalproc.VitalFile, b: vitalproc.VitalFile) -> list[str]:
    """Every track's dt/data/offsets compared by dtype and bytes."""
    out = []
    for name, t in a.trks.items():
        o = b.trks.get(name)
        if o is None:
            out.append(f"{name}: missing")
            continue
        for field in ("dt", "data", "offsets"):
            x, y = getattr(t, field), getattr(o, field)
            if (x is None) != (y is None) or (
                x is not None and (x.dtype != y.dtype or x.tobytes() != y.tobytes())
            ):
                out.append(f"{name}.{field} differs")
    return out


def recording_differences(
    a: vitalproc.VitalFile, b: vitalproc.VitalFile, warnings: bool = True, arrays: bool = True
) -> list[str]:
    """parity.differences, the compat mode, (``arrays``) the raw arrays and
    (``warnings``) the read's warnings: a case keeps those of its conversion's full read."""
    out = differences(a, b) + (array_differences(a, b) if arrays else [])
    if warnings and a.warnings != b.warnings:
        out.append(f"warnings: {a.warnings} != {b.warnings}")
    if a.compat != b.compat:
        out.append(f"compat: {a.compat} != {b.compat}")
    return out


def assert_same_grid(a: np.ndarray, b: np.ndarray) -> None:
    """Same dtype, shape and values; NaN equal to NaN (also in object columns)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:  # texts and NaN

        def plain(values):
            return [None if isinstance(v, float) and np.isnan(v) else v for v in values]

        assert plain(a.ravel()) == plain(b.ravel())
    else:
        assert np.array_equal(a, b, equal_nan=True)


def write_case(gz: bytes, folder, name: str, **read_kwargs) -> tuple[str, str]:
    """The .vital bytes as a file, and their Parquet file as convert writes it."""
    src = os.path.join(folder, f"{name}.vital")
    with open(src, "wb") as f:
        f.write(gz)
    out = os.path.join(folder, f"{name}.parquet")
    vp.write(read_quietly(src, **read_kwargs), out, header_span=batch._header_span(src))
    return src, out


def vitaldb_read(path) -> object:
    """vitaldb.VitalFile(path), what it prints swallowed."""
    vitaldb = _vitaldb()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vitaldb.VitalFile(os.fspath(path))


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory):
    """Every readable fixture as .vital, and its .parquet as convert writes it."""
    folder = tmp_path_factory.mktemp("cases")
    return {
        name: write_case(build(), folder, name)
        for name, build in FIXTURES.items()
        if name not in UNREADABLE
    }


READABLE = [n for n in FIXTURES if n not in UNREADABLE]


# ---- vitalproc reads back what the .vital file holds ------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_case_reads_back_as_the_source(fixture_files, name):
    src, out = fixture_files[name]
    source, back = read_quietly(src), vitalproc.read(out)
    assert back.ipath == out
    diffs = recording_differences(source, back)
    if name not in NOT_REPRESENTABLE:
        assert diffs == []
    elif name.startswith("raw_packets"):
        assert source.packets and back.packets == []
        assert diffs == [f"raw packets: {len(source.packets)} != 0"]
    else:  # texts kept as decoded, raw bytes not
        strings = [n for n, t in source.trks.items() if t.type == 5]
        assert all(source.trks[n].texts() == back.trks[n].texts() for n in strings)
        assert diffs and all(d.split(".")[0] in strings for d in diffs)


@pytest.mark.parametrize(
    "name",
    [
        "typical",
        "wave_all_fmts",
        "redeclared_same_meta",
        "redeclared_gain",
        "redeclared_five_times",
        "redeclared_interleaved",
        "redeclared_new_rate_type",
    ],
)
def test_vitalfile_constructor_reads_a_case(fixture_files, name):
    src, out = fixture_files[name]
    assert recording_differences(read_quietly(src), vitalproc.VitalFile(out)) == []


@pytest.mark.parametrize("name", READABLE)
def test_selection_and_header_only_as_from_the_source(fixture_files, name):
    """Every single track, every pair of the first four, with and without records: the
    same VitalFile, span included, as the .vital read of that selection (where the
    .vital span counts records it could not parse, only the span may differ)."""
    src, out = fixture_files[name]
    names = list(read_quietly(src, header_only=True).trks)
    selections = [[n] for n in names] + [
        [a, b] for i, a in enumerate(names[:4]) for b in names[i + 1 : 4]
    ]
    for selection in selections:
        for header_only in (False, True):
            a = read_quietly(src, tracks=selection, header_only=header_only)
            b = vitalproc.read(out, tracks=selection, header_only=header_only)
            diffs = recording_differences(
                a, b, warnings=False, arrays=name not in NOT_REPRESENTABLE
            )
            ignored = (
                ("raw packets", "dtstart", "dtend")
                if name in UNPARSED_RECORDS
                else ("raw packets",)
            )
            assert [d for d in diffs if not d.startswith(ignored)] == [], (selection, header_only)


def test_selection_by_suffix_device_and_exclude(fixture_files):
    src, out = fixture_files["typical"]
    for kwargs in (
        {"tracks": "HR"},
        {"tracks": ["SNUADC/*"]},
        {"exclude": "ART,EVENT"},
        {"tracks": "ECG_II,HR", "exclude": ["HR"]},
    ):
        assert (
            recording_differences(read_quietly(src, **kwargs), vitalproc.read(out, **kwargs), False)
            == []
        ), kwargs


def test_maxlen_when_the_earliest_record_comes_first(fixture_files):
    src, out = fixture_files["typical"]
    for maxlen in (0, 3, 3.5, 100):
        a, b = read_quietly(src, maxlen=maxlen), vitalproc.read(out, maxlen=maxlen)
        assert recording_differences(a, b, False) == [], maxlen


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_recordings_read_back(tmp_path, path):
    """The real files have 10-byte headers: a selection's span comes from its records."""
    src, out = write_case(path.read_bytes(), tmp_path, path.stem)
    assert recording_differences(read_quietly(src), vitalproc.read(out)) == []
    for name in read_quietly(src, header_only=True).trks:
        a, b = read_quietly(src, tracks=[name]), vitalproc.read(out, tracks=[name])
        assert (a.dtstart, a.dtend) == (b.dtstart, b.dtend)
        assert recording_differences(a, b, False) == []
        assert_same_grid(a.to_numpy([name], 0.01), b.to_numpy([name], 0.01))


def test_reads_only_the_row_groups_and_columns_asked_for(fixture_files, monkeypatch):
    _, out = fixture_files["typical"]
    layout = read_layout(out)
    calls = []
    real = pq.ParquetFile.read_row_groups

    def spy(self, row_groups, columns=None, **kwargs):
        calls.append((list(row_groups), list(columns)))
        return real(self, row_groups, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)

    def asked():  # row groups and column lists, over every read (one per core or not)
        groups = sorted(g for c in calls for g in c[0])
        columns = {tuple(c[1]) for c in calls}
        calls.clear()
        return groups, columns

    vitalproc.read(out, tracks=["SNUADC/ECG_II"])
    ecg = next(t for t in layout["tracks"] if t["dtname"] == "SNUADC/ECG_II")
    first, count = ecg["row_groups"]
    assert asked() == (list(range(first, first + count)), {("dt", "ivals")})
    vitalproc.read(out, header_only=True)
    assert asked() == ([], set())
    vitalproc.read(out, tracks=["HR", "NIBP_SBP"])
    numerics = [t["row_groups"][0] for t in layout["tracks"] if t["column"] == "nval"]
    assert asked() == (numerics, {("dt", "nval")})


# ---- the file as vitaldb's schema ----------------------------------------------------------


def test_schema_is_vitaldbs_one_row_group_per_track(fixture_files):
    _, out = fixture_files["typical"]
    pf = pq.ParquetFile(out)
    assert pf.schema_arrow.names == list(vp.COLUMNS)
    types = {f.name: f.type for f in pf.schema_arrow}
    assert types["ivals"].value_type == pa.int16() and types["fvals"].value_type == pa.float32()
    for name in ("dt", "nval", "srate", "gain", "bias"):
        assert types[name] == pa.float64()
    meta = pf.metadata
    layout = read_layout(out)
    for t in layout["tracks"]:
        first, count = t["row_groups"]
        assert count == (1 if t["records"] else 0)
        for g in range(first, first + count):
            rg = meta.row_group(g)
            assert rg.num_rows == t["records"]
            stats = rg.column(pf.schema_arrow.names.index("tname")).statistics
            assert stats.min == stats.max == t["name"]
            assert rg.column(0).compression == "ZSTD"
    span = pf.read_row_group(0).to_pylist()  # vitaldb's span, in rows without a track
    assert [r["dt"] for r in span] == [layout["dtstart"], layout["dtend"]]
    assert all(r["tname"] == "" and r["ivals"] is r["nval"] is r["sval"] is None for r in span)


def test_columns_widen_only_for_32_bit_integers_and_doubles(fixture_files):
    types = {f.name: f.type for f in pq.ParquetFile(fixture_files["wave_all_fmts"][1]).schema_arrow}
    assert types["ivals"].value_type == pa.int32() and types["fvals"].value_type == pa.float64()
    layout = read_layout(fixture_files["wave_all_fmts"][1])
    shifts = {t["name"]: t["shift"] for t in layout["tracks"]}
    assert shifts == {
        "W_F32": 0,
        "W_F64": 0,
        "W_I8": 0,
        "W_U8": 0,
        "W_I16": 0,
        "W_U16": 0,
        "W_I32": 0,
        "W_U32": 2**31,
    }


def test_big_tracks_split_into_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(vp, "SAMPLES_PER_GROUP", 1000)
    src, out = write_case(FIXTURES["typical"](), tmp_path, "typical")
    ecg = next(t for t in read_layout(out)["tracks"] if t["dtname"] == "SNUADC/ECG_II")
    assert ecg["row_groups"][1] == 5  # 10 records of 500 samples, 2 records per group
    assert recording_differences(read_quietly(src), vitalproc.read(out)) == []
    for name in ("SNUADC/ECG_II", "HR", "EVENT"):
        assert (
            recording_differences(
                read_quietly(src, tracks=name), vitalproc.read(out, tracks=name), False
            )
            == []
        )


def test_a_split_track_has_row_groups_of_equal_record_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(vp, "SAMPLES_PER_GROUP", 3000)  # 5000 samples: two groups
    _, out = write_case(FIXTURES["typical"](), tmp_path, "typical")
    ecg = next(t for t in read_layout(out)["tracks"] if t["dtname"] == "SNUADC/ECG_II")
    first, count = ecg["row_groups"]
    meta = pq.ParquetFile(out).metadata
    assert [meta.row_group(g).num_rows for g in range(first, first + count)] == [5, 5]


def test_row_groups_read_on_parallel_threads(tmp_path, monkeypatch):
    import threading

    from vitalproc.dataset import case_reader

    monkeypatch.setattr(vp, "SAMPLES_PER_GROUP", 1000)
    src, out = write_case(FIXTURES["typical"](), tmp_path, "typical")
    monkeypatch.setattr(case_reader, "PARALLEL_READ_BYTES", 0)
    monkeypatch.setattr(pa, "cpu_count", lambda: 2)  # also on a one-core machine
    calls = []
    real = pq.ParquetFile.read_row_groups

    def spy(self, row_groups, columns=None, **kwargs):
        calls.append((list(row_groups), threading.get_ident()))
        return real(self, row_groups, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    back = vitalproc.read(out, tracks="SNUADC/ECG_II")
    first, count = next(t for t in read_layout(out)["tracks"] if t["dtname"] == "SNUADC/ECG_II")[
        "row_groups"
    ]
    # five row groups, in two runs of consecutive groups, each read on another thread
    runs = sorted(c[0] for c in calls)
    assert count == 5 and len(runs) == 2
    assert runs[0] + runs[1] == list(range(first, first + count))
    assert threading.get_ident() not in {c[1] for c in calls}
    assert recording_differences(read_quietly(src, tracks="SNUADC/ECG_II"), back, False) == []


@pytest.mark.parametrize(
    ("sizes", "parts", "runs"),
    [
        ([4, 4, 4, 4], 2, [[0, 1], [2, 3]]),
        ([1000, 1001, 1002, 999], 2, [[0, 1], [2, 3]]),  # nearly equal, as compressed
        ([10, 1, 1], 2, [[0], [1, 2]]),
        ([1, 1, 10], 2, [[0, 1], [2]]),
        ([3, 3, 3], 3, [[0], [1], [2]]),
        ([3, 3], 4, [[0], [1]]),
        ([5, 5, 5], 1, [[0, 1, 2]]),
        ([0, 0], 2, [[0, 1]]),
    ],
)
def test_balanced_runs(sizes, parts, runs):
    from vitalproc.dataset.case_reader import _balanced_runs

    assert _balanced_runs(list(range(len(sizes))), sizes, parts) == runs


def test_integer_samples_at_their_own_compression_level(tmp_path):
    vf = read_quietly(io.BytesIO(FIXTURES["typical"]()))

    def chunk_sizes(level):  # the ECG's ivals and dt column chunks, compressed
        out = tmp_path / f"{level}.parquet"
        vp.write(vf, out, compression_level=level)
        pf = pq.ParquetFile(out)
        first = next(t for t in read_layout(out)["tracks"] if t["dtname"] == "SNUADC/ECG_II")[
            "row_groups"
        ][0]
        group = pf.metadata.row_group(first)
        return tuple(
            group.column(pf.schema_arrow.names.index(c)).total_compressed_size
            for c in ("ivals", "dt")
        )

    ivals, dt = chunk_sizes(None)
    assert ivals == chunk_sizes(vp.IVALS_COMPRESSION_LEVEL)[0] != chunk_sizes(1)[0]
    assert dt == chunk_sizes(vp.COMPRESSION_LEVEL)[1] != chunk_sizes(9)[1]


def test_a_track_of_empty_texts(tmp_path):
    from vitalbytes import F32, STR, VitalBuilder, gzip_bytes

    b = VitalBuilder().header(dgmt=-540, dtstart=1.7e9, dtend=1.7e9 + 10)
    b.track(1, STR, F32, "EVENT").string(1, 1.7e9, "").string(1, 1.7e9 + 1, "")
    src, out = write_case(gzip_bytes(b.bytes()), tmp_path, "empty_texts")
    back = vitalproc.read(out)
    assert back.trks["EVENT"].texts() == ["", ""]
    assert recording_differences(read_quietly(src), back) == []


def test_float_widening_keeps_every_nan_payload():
    bits = np.array([0x7FA00001, 0xFFC00000, 0x7FC12345, 0x00000001, 0xFF800000], np.uint32)
    wide = vp.widen_f32(bits.view(np.float32))
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(vp.narrow_f64(wide).view(np.uint32), bits)


# ---- vitaldb reads our files ----------------------------------------------------------------


def _vitaldb_name(trk) -> str:
    """The name vitaldb's parquet reader gives a track: no device name, no device."""
    return f"{trk.dname}/{trk.name}" if trk.dname else trk.name


def _compare_grids(ref, ours, names, interval):
    with np.errstate(all="ignore"):  # vitaldb casts float64 extremes to float32
        try:
            a = ref.to_numpy(names, interval)
        except (IndexError, ValueError) as exc:  # e.g. a wave of srate 0: the same fault
            with pytest.raises(type(exc)):
                ours.to_numpy(names, interval)
            return
        b = ours.to_numpy(names, interval)
    assert a.shape == b.shape and a.dtype == b.dtype
    for j, name in enumerate(names):
        x, y = a[:, j], b[:, j]
        trk = ref.trks[name]
        if trk.type == 5:
            assert_same_grid(x, y)
            continue
        x, y = x.astype(np.float32), y.astype(np.float32)  # object when texts are beside
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        if trk.type == 1 and trk.fmt > 2 and (trk.gain, trk.offset) != (1, 0):
            # Quirk: vitaldb's parquet reader applies gain and bias in float64 and rounds
            # once; its .vital to_numpy rounds in float32 at each step: 1 ulp at most.
            ok = ~np.isnan(x)
            assert np.abs(x[ok].view(np.int32) - y[ok].view(np.int32)).max(initial=0) <= 1
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


#: Fixtures with records at times that are not positive or not finite: vitaldb's parquet
#: reader takes its span from the smallest and largest dt of all rows, where the .vital
#: reader ignores them (``test_vitaldb_quirk_span_from_all_rows``).
ODD_TIMES = {"header_10", "nan_inf_dt"}


@quiet_vitaldb
@pytest.mark.parametrize("name", sorted(set(READABLE) - ODD_TIMES))
def test_vitaldb_reads_our_file_into_the_same_grids(tmp_path, name):
    gz = FIXTURES[name]()
    # Written from a compat="vitaldb" read: the same data vitaldb reads from the .vital
    _, out = write_case(gz, tmp_path, name, compat="vitaldb")
    ref, ours = vitaldb_read(os.path.join(tmp_path, f"{name}.vital")), vitaldb_read(out)
    assert (ours.dtstart, ours.dtend) == (ref.dtstart, ref.dtend)  # the last second kept
    # Quirk: vitaldb learns a track from its rows only: no track without records (or of
    # an unknown type, or with an empty name), and an empty device name is no device.
    present = {n: t for n, t in ref.trks.items() if t.recs and t.type in (1, 2, 5) and t.name}
    assert set(ours.trks) == {_vitaldb_name(t) for t in present.values()}
    same = [n for n, t in present.items() if _vitaldb_name(t) == n]
    for n in same:
        # Quirk: its reader drops numeric records whose value is NaN (pandas' notnull)
        kept = [
            r["dt"]
            for r in ref.trks[n].recs
            if not (ref.trks[n].type == 2 and r["val"] != r["val"])
        ]
        assert [r["dt"] for r in ours.trks[n].recs] == kept
    span = ref.dtend - ref.dtstart
    srate = max((t.srate for t in present.values() if t.type == 1), default=0)
    if not same or not 0 < span * max(srate, 1) <= 1e7:
        return  # stray_timestamps: 130 years of 100 Hz samples fit in no memory
    for interval in [i for i in (1, 0.01) if span / i <= 2e6]:
        _compare_grids(ref, ours, same, interval)


@quiet_vitaldb
@pytest.mark.parametrize("name", sorted(ODD_TIMES))
def test_vitaldb_quirk_span_from_all_rows(tmp_path, name):
    """vitaldb's parquet reader spans the smallest to the largest dt of all rows; the
    .vital reader lets no time <= 0 lower the start. Ours keeps the .vital span."""
    src, out = write_case(FIXTURES[name](), tmp_path, name, compat="vitaldb")
    ref, ours = vitaldb_read(src), vitaldb_read(out)
    times = np.array(
        [r["dt"] for t in ref.trks.values() for r in t.recs] + [ref.dtstart, ref.dtend]
    )
    assert (ours.dtstart, ours.dtend) == (np.nanmin(times), np.nanmax(times))
    assert (ours.dtstart, ours.dtend) != (ref.dtstart, ref.dtend)
    back = vitalproc.read(out)
    assert differences(read_quietly(src, compat="vitaldb"), back) == []


@quiet_vitaldb
def test_vitaldb_quirk_tracks_known_by_their_rows_only(tmp_path):
    """No rows, no track: a track without records is missing for vitaldb's parquet
    reader (a NaN float64 column in to_numpy), and '/HR' (a device named '') is 'HR'."""
    _, out = write_case(FIXTURES["numeric_short"](), tmp_path, "numeric_short")
    src = os.path.join(tmp_path, "numeric_short.vital")
    ref, ours = vitaldb_read(src), vitaldb_read(out)
    empty = [n for n, t in ref.trks.items() if not t.recs]
    assert empty and not set(empty) & set(ours.trks)
    assert set(vitalproc.read(out).trks) == set(ref.trks)  # vitalproc keeps them
    _, out = write_case(FIXTURES["device_empty_name"](), tmp_path, "device_empty_name")
    assert "/HR" in vitalproc.read(out).trks and "/HR" not in vitaldb_read(out).trks
    assert "HR" in vitaldb_read(out).trks


@quiet_vitaldb
def test_vitaldb_writer_drops_the_last_second_ours_keeps_it(tmp_path):
    src = tmp_path / "typical.vital"
    src.write_bytes(FIXTURES["typical"]())
    ref = vitaldb_read(src)
    theirs = tmp_path / "theirs.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.to_parquet(str(theirs))
    _, ours = write_case(src.read_bytes(), tmp_path, "ours")
    names = list(ref.trks)
    grid = ref.to_numpy(names, 1 / 500)
    assert vitaldb_read(theirs).dtend < ref.dtend  # the bug: its last row's start
    assert len(vitaldb_read(theirs).to_numpy(names, 1 / 500)) < len(grid)
    assert vitaldb_read(ours).dtend == ref.dtend
    assert len(vitaldb_read(ours).to_numpy(names, 1 / 500)) == len(grid)


@quiet_vitaldb
def test_vitaldb_writer_squeezes_32_bit_integers_ours_does_not(tmp_path):
    src = tmp_path / "all.vital"
    src.write_bytes(FIXTURES["wave_all_fmts"]())
    ref = vitaldb_read(src)
    theirs = tmp_path / "theirs.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.to_parquet(str(theirs))
    _, ours = write_case(src.read_bytes(), tmp_path, "ours")
    for name in ("SNUADC/W_I32", "SNUADC/W_U32"):
        original = ref.trks[name].recs[0]["val"].astype(np.float64)
        squeezed = vitaldb_read(theirs).trks[name].recs[0]["val"].astype(np.float64)
        kept = vitaldb_read(ours).trks[name].recs[0]["val"].astype(np.float64)
        assert not np.array_equal(squeezed, original)  # the bug: int16 wrap-around
        np.testing.assert_array_equal(kept, original.astype(np.float32))
        np.testing.assert_array_equal(
            vitalproc.read(ours).trks[name].recs[0]["val"], ref.trks[name].recs[0]["val"]
        )


@quiet_vitaldb
@pytest.mark.parametrize(
    "name",
    [
        "typical",
        "vitaldb_packed_many",
        "wave_all_fmts",
        "numeric_all_fmts",
        "string_values",
        "device_empty_name",
    ],
)
def test_reads_a_parquet_file_vitaldb_wrote_as_vitaldb_does(tmp_path, name):
    src = tmp_path / f"{name}.vital"
    src.write_bytes(FIXTURES[name]())
    theirs = tmp_path / "theirs.parquet"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        vitaldb_read(src).to_parquet(str(theirs))
    ref, ours = vitaldb_read(theirs), vitalproc.read(theirs)
    diffs = [d for d in differences(ref, ours) if not d.endswith(".fmt: 1 != 2")]
    assert diffs == []
    for trk in ours.trks.values():  # fmt 2 only where a value is no float32
        if trk.fmt == 2:
            with np.errstate(over="ignore"):
                assert (trk.data.astype(np.float32).astype(np.float64) != trk.data).any()


def test_rejects_parquet_files_of_other_schemas(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(vitalproc.VitalFormatError, match="long-schema"):
        vitalproc.read(path)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(vitalproc.VitalFormatError, match="not a Parquet file"):
        vitalproc.read(tmp_path / "junk.parquet")
    with pytest.raises(FileNotFoundError):
        vitalproc.read(tmp_path / "missing.parquet")


# ---- the dataset ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """Three recordings and a corrupt file, converted."""
    folder = tmp_path_factory.mktemp("small")
    sources = folder / "in"
    sources.mkdir()
    for name in ("typical", "vitaldb_packed_many", "numeric_all_fmts", "bad_magic"):
        (sources / f"{name}.vital").write_bytes(FIXTURES[name]())
    report = vitalproc.convert(sources, folder / "ds", jobs=2, progress=False)
    assert report.count("failed") == 1
    return sources, folder / "ds"


def test_open_dataset_cases_tracks_recordings(small_dataset, monkeypatch):
    sources, folder = small_dataset
    ds = open_dataset(folder)
    assert ds.cases == ["numeric_all_fmts", "typical", "vitaldb_packed_many"]
    opened = []
    real = pq.ParquetFile.__init__

    def spy(self, source, *args, **kwargs):
        opened.append(os.path.basename(os.fspath(source)))
        real(self, source, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "__init__", spy)
    tracks = ds.tracks
    assert opened == [TRACKS_NAME]  # no recording opened
    monkeypatch.undo()
    rows = tracks.to_pylist()
    for case in ds.cases:
        vf = read_quietly(sources / f"{case}.vital")
        mine = [r for r in rows if r["caseid"] == case]
        assert [r["dtname"] for r in mine] == list(vf.trks)
        for r in mine:
            t = vf.trks[r["dtname"]]
            assert (r["records"], r["fmt"], r["type"], r["unit"], r["srate"]) == (
                len(t),
                t.fmt,
                t.type,
                t.unit,
                t.srate,
            )
            if len(t):
                assert r["dtstart"] == t.dt[t.dt > 0].min()
    recordings = {r["caseid"]: r for r in ds.recordings.to_pylist()}
    assert recordings["bad_magic"]["status"] == "failed"
    assert "VITA" in recordings["bad_magic"]["error"]
    with pytest.raises(KeyError, match="bad_magic"):
        ds.case_path("bad_magic")
    with pytest.raises(FileNotFoundError, match="_manifest"):
        open_dataset(sources)


def test_load_gives_the_vitalfile_or_vitaldbs_grid(small_dataset):
    sources, folder = small_dataset
    ds = open_dataset(folder)
    vf = read_quietly(sources / "typical.vital")
    assert recording_differences(vf, ds.load("typical")) == []
    tracks = ["SNUADC/ECG_II", "HR"]
    selected = read_quietly(sources / "typical.vital", tracks=tracks)
    assert recording_differences(selected, ds.load("typical", tracks), False) == []
    for interval in (1, 0.002):
        assert_same_grid(ds.load("typical", tracks, interval), selected.to_numpy(tracks, interval))


def test_query_views(small_dataset):
    sources, folder = small_dataset
    ds = open_dataset(folder)
    table = ds.query(
        "SELECT caseid, avg(nval) AS hr FROM samples WHERE tname = 'HR' "
        "GROUP BY caseid ORDER BY caseid"
    )
    expected = {}
    for case in ds.cases:
        vf = read_quietly(sources / f"{case}.vital")
        values = [
            t.data.astype(np.float64) for n, t in vf.trks.items() if t.name == "HR" and t.type == 2
        ]
        if values:
            expected[case] = float(np.concatenate(values).mean())
    got = {r["caseid"]: r["hr"] for r in table.to_pylist()}
    assert got.keys() == expected.keys() and all(
        got[k] == pytest.approx(v) for k, v in expected.items()
    )
    counts = ds.query("SELECT caseid, dtname, count(*) AS n FROM samples GROUP BY ALL")
    for r in counts.to_pylist():  # span rows are not samples
        assert r["n"] == len(read_quietly(sources / f"{r['caseid']}.vital").trks[r["dtname"]])
    joined = ds.query(
        "SELECT r.caseid, count(*) AS n FROM recordings r JOIN tracks t "
        "USING (caseid) GROUP BY ALL ORDER BY ALL"
    ).to_pylist()
    assert [r["caseid"] for r in joined] == ds.cases


def test_query_command(small_dataset, tmp_path):
    _, folder = small_dataset
    sql = "SELECT caseid, count(*) AS n FROM tracks GROUP BY caseid ORDER BY caseid"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "vitalproc", "query", *map(str, args)],
            capture_output=True,
            text=True,
            check=False,
        )

    shown = run(folder, sql)
    assert shown.returncode == 0 and "typical" in shown.stdout and "caseid" in shown.stdout
    run(folder, sql, "-o", tmp_path / "out.csv")
    run(folder, sql, "-o", tmp_path / "out.parquet")
    expected = open_dataset(folder).query(sql)
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == expected.to_pylist()
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].replace('"', "") == "caseid,n" and len(lines) == 1 + expected.num_rows
    csv = run(folder, sql, "--format", "csv")
    assert csv.stdout.replace('"', "").splitlines() == [line.replace('"', "") for line in lines]
    assert run(folder, "SELEC 1").returncode == 2
    assert run(tmp_path, sql).returncode == 2
    assert run(folder, sql, "-o", tmp_path / "out.txt").returncode == 2
