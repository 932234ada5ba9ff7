"""The long table (``vitalproc.ops.frames``): ``to_arrow`` and ``to_polars`` against the model.

Every wave keeps its on-disk dtype in its own ``samples_<dtype>`` column, and the table's
buffers are the model's (asserted by address): the samples, offsets, times, float64
values and valid UTF-8 texts. ``tests/test_formats.py`` reads the same table back from
the Parquet and Arrow IPC writers with ``check_long_table``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, read_source
from vitalproc._constants import FMT_DTYPE
from vitalproc.ops import frames
from vitalproc.ops import selection as _base

from fixtures_catalog import FIXTURES, T0
from vitalbytes import F32, I16, NUM, STR, U16, WAVE, VitalBuilder, gzip_bytes

FIXED_COLUMNS = ["device", "track", "type", "unit", "dt", "value", "text"]
KIND_COLUMN = {1: "samples", 2: "value", 5: "text"}
#: Fixtures that are not recordings: reading them raises (asserted below).
UNREADABLE = ("bad_magic", "ends_after_version")
READABLE = tuple(sorted(set(FIXTURES) - set(UNREADABLE)))
#: numpy dtype names in fmt order: the order of the samples columns.
FMT_ORDER = [np.dtype(code).name for code in FMT_DTYPE.values()]


#: A source read once.
load = functools.cache(read_source)


def column_dtype(trk, physical: bool) -> np.dtype:
    """The dtype a wave's samples have in the table."""
    if physical and trk.fmt > 2:
        return np.dtype(np.float64)
    return np.dtype(FMT_DTYPE.get(trk.fmt, "<f4")).newbyteorder("=")


def expected_columns(vf, names, physical=False) -> list[str]:
    dtypes = {column_dtype(vf.trks[n], physical).name for n in names if vf.trks[n].type == 1}
    return FIXED_COLUMNS + [f"samples_{d}" for d in FMT_ORDER if d in dtypes]


def check_long_table(table, vf, physical=False, names=None) -> None:
    """Every row of a long table (any chunking) against the model, track by track:
    columns, dtypes, values bit for bit, nulls where a track kind has no value."""
    import pyarrow as pa

    names = list(vf.trks) if names is None else list(names)
    columns = expected_columns(vf, names, physical)
    assert table.column_names == columns
    meta = frames.metadata(table)
    assert meta["version"] == frames.VERSION
    assert meta["samples_columns"] == columns[len(FIXED_COLUMNS) :]
    assert list(meta["tracks"]) == names
    at = 0
    for name in names:
        trk = vf.trks[name]
        n = len(trk) if trk.type in KIND_COLUMN else 0  # other types: no rows
        assert meta["tracks"][name]["records_count"] == n
        rows = table.slice(at, n)
        at += n
        if not n:
            continue
        assert rows.column("track").unique().to_pylist() == [name]
        assert rows.column("device").unique().to_pylist() == [trk.dname]
        assert rows.column("unit").unique().to_pylist() == [trk.unit]
        assert rows.column("type").unique().to_pylist() == [
            {1: "wave", 2: "numeric", 5: "string"}[trk.type]
        ]
        assert rows.column("dt").to_numpy().tobytes() == trk.dt.tobytes()
        # Float formats hold physical values already: raw, their NaN payloads kept.
        physical_units = physical and trk.fmt > 2
        own = KIND_COLUMN[trk.type]
        if own == "samples":
            own = f"samples_{column_dtype(trk, physical).name}"
        for column in columns[len(FIXED_COLUMNS) - 2 :]:
            assert rows.column(column).null_count == (0 if column == own else n), column
        if trk.type == 2:
            with np.errstate(invalid="ignore"):  # signalling NaNs widened
                want = trk.to_numpy(physical_units).astype(np.float64)
            assert rows.column("value").to_numpy().tobytes() == want.tobytes()
        elif trk.type == 5:
            assert rows.column("text").to_pylist() == trk.texts()
        else:
            dtype = column_dtype(trk, physical)
            waves = rows.column(own).combine_chunks()
            assert waves.type == pa.large_list(pa.from_numpy_dtype(dtype))
            np.testing.assert_array_equal(np.diff(waves.offsets.to_numpy()), np.diff(trk.offsets))
            got = waves.flatten().to_numpy(zero_copy_only=False)
            assert got.dtype == dtype
            with np.errstate(invalid="ignore"):  # signalling NaNs widened
                want = trk.to_numpy(physical_units)[trk.offsets[0] : trk.offsets[-1]]
            assert got.tobytes() == want.astype(dtype, copy=False).tobytes()
    assert at == table.num_rows


def assert_zero_copy(table, vf, physical=False) -> None:
    """One chunk per track over the model's own buffers (samples, offsets, dt, and
    float64 values and valid texts), for every track with data."""
    tracks = frames.metadata(table)["tracks"]
    for i, name in enumerate(tracks):
        trk = vf.trks[name]
        if not len(trk) or trk.type not in KIND_COLUMN:
            continue
        assert table.column("dt").chunk(i).buffers()[1].address == trk.dt.ctypes.data
        if trk.type == 1 and not (physical and trk.fmt > 2) and len(trk.data):
            chunk = table.column(f"samples_{trk.data.dtype.name}").chunk(i)
            assert len(chunk) == len(trk)
            assert chunk.buffers()[1].address == trk.offsets.ctypes.data
            assert chunk.values.buffers()[1].address == trk.data.ctypes.data
        elif trk.type == 2 and trk.data.dtype == np.float64:
            assert table.column("value").chunk(i).buffers()[1].address == trk.data.ctypes.data
        elif trk.type == 5 and len(trk.data):
            text = table.column("text").chunk(i)
            assert (text.buffers()[2].address == trk.data.ctypes.data) == is_utf8(trk)


def is_utf8(trk) -> bool:
    try:
        trk.data.tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# -- every kind of file -----------------------------------------------------------------------


@pytest.mark.parametrize("source", [p.name for p in REAL_FILES] + list(READABLE))
def test_values_dtypes_and_buffers(source):
    vf = load(source)
    table = vf.to_arrow()
    check_long_table(table, vf)
    assert_zero_copy(table, vf)


@pytest.mark.parametrize("source", UNREADABLE)
def test_unreadable_fixtures_are_not_recordings(source):
    with pytest.raises(vitalproc.VitalFormatError):
        vitalproc.read(FIXTURES[source]())


@pytest.mark.parametrize("source", [REAL_FILES[0].name, "wave_all_fmts", "numeric_all_fmts"])
def test_physical(source):
    vf = load(source)
    table = vf.to_arrow(physical=True)
    check_long_table(table, vf, physical=True)
    assert_zero_copy(table, vf, physical=True)


def test_every_dtype_keeps_its_column():
    vf = load("wave_all_fmts")
    table = vf.to_arrow()
    assert table.column_names[len(FIXED_COLUMNS) :] == [f"samples_{d}" for d in FMT_ORDER]
    assert [str(table.schema.field(f"samples_{d}").type) for d in ("int8", "float64")] == [
        "large_list<item: int8>",
        "large_list<item: double>",
    ]
    physical = vf.to_arrow(physical=True)  # integer waves become float64; floats stay
    assert physical.column_names[len(FIXED_COLUMNS) :] == ["samples_float32", "samples_float64"]


def test_one_dtype_and_none():
    vf = load(REAL_FILES[0].name)
    assert {t.data.dtype.name for t in vf.trks.values() if t.type == 1} == {"uint16"}
    assert vf.to_arrow().column_names == FIXED_COLUMNS + ["samples_uint16"]
    numbers = load("numeric_all_fmts").to_arrow()
    assert numbers.column_names == FIXED_COLUMNS
    assert frames.metadata(numbers)["samples_columns"] == []


@pytest.mark.corpus
def test_corpus_or_1h(corpus, tmp_path):
    import pyarrow as pa

    vf = vitalproc.read(corpus["or_1h"])
    table = vf.to_arrow()
    assert table.column_names == FIXED_COLUMNS + ["samples_float32", "samples_uint16"]
    check_long_table(table, vf)
    assert_zero_copy(table, vf)
    # The streaming writer cuts long waves into several batches: rebased offsets.
    vitalproc.export(vf, tmp_path / "or.arrow", "arrow")
    with pa.memory_map(str(tmp_path / "or.arrow")) as source:
        reader = pa.ipc.open_file(source)
        assert reader.num_record_batches > len(vf.trks)
        check_long_table(reader.read_all(), vf)


# -- empty tracks, strings, selection ---------------------------------------------------------


def empty_tracks_file() -> bytes:
    """Tracks with no records of each kind, a wave record with no samples, and data."""
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 10)
    b.track(1, WAVE, U16, "W_EMPTY", srate=100.0)
    b.track(2, NUM, F32, "N_EMPTY")
    b.track(3, STR, F32, "S_EMPTY")
    b.track(4, WAVE, F32, "W_NO_SAMPLES", srate=100.0).wave(4, T0, [])
    b.track(5, WAVE, I16, "W", srate=100.0).wave(5, T0, [1, -2, 3]).wave(5, T0 + 1, [4])
    return gzip_bytes(b.bytes())


def test_empty_tracks():
    vf = vitalproc.read(empty_tracks_file())
    assert [len(t) for t in vf.trks.values()] == [0, 0, 0, 1, 2]
    table = vf.to_arrow()
    check_long_table(table, vf)
    assert_zero_copy(table, vf)
    assert table.num_rows == 3
    assert table.column("samples_float32").to_pylist() == [[], None, None]
    assert table.column("samples_int16").to_pylist() == [None, [1, -2, 3], [4]]
    assert table.column("samples_uint16").to_pylist() == [None] * 3  # declared: typed
    meta = frames.metadata(table)
    assert [t["records_count"] for t in meta["tracks"].values()] == [0, 0, 0, 1, 2]
    empty = vf.to_arrow("W_EMPTY,N_EMPTY,S_EMPTY")
    assert empty.num_rows == 0 and empty.column_names == FIXED_COLUMNS + ["samples_uint16"]


def test_string_tracks():
    vf = load("string_values")
    table = vf.to_arrow()
    check_long_table(table, vf)
    texts = [t for n, t in vf.trks.items() if t.type == 5]
    assert texts and table.column("text").null_count == table.num_rows - sum(map(len, texts))
    assert_zero_copy(table, vf)
    invalid = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 2)
    invalid.track(1, STR, F32, "EVENT").string(1, T0, b"ok\xffthen").string(1, T0 + 1, "b")
    vf = vitalproc.read(gzip_bytes(invalid.bytes()))
    table = vf.to_arrow()
    assert table.column("text").to_pylist() == vf.trks["EVENT"].texts() == ["okthen", "b"]
    assert_zero_copy(table, vf)  # asserts the decoded copy: not the model's bytes


def test_selection():
    vf = load("wave_all_fmts")
    picked = vf.to_arrow(["W_U16", "W_I16"])  # listed out of order: file order is kept
    names = ["SNUADC/W_I16", "SNUADC/W_U16"]
    check_long_table(picked, vf, names=names)
    assert picked.column_names == FIXED_COLUMNS + ["samples_int16", "samples_uint16"]
    assert_zero_copy(picked, vf)
    assert frames.metadata(vf.to_arrow("W_U8,W_F32"))["samples_columns"] == [
        "samples_float32",
        "samples_uint8",
    ]
    assert list(frames.metadata(vf.to_arrow("SNUADC/*"))["tracks"]) == list(vf.trks)
    assert list(frames.metadata(vf.to_arrow("W_?32"))["tracks"]) == [
        "SNUADC/W_F32",
        "SNUADC/W_I32",
        "SNUADC/W_U32",
    ]
    nothing = vf.to_arrow(["Nope"])
    assert nothing.num_rows == 0 and nothing.column_names == FIXED_COLUMNS


def test_batches_equal_the_table():
    """The streaming writers' batches (bounded, offsets rebased) hold the same rows."""
    import pyarrow as pa

    vf = load(REAL_FILES[0].name)
    long_table = frames.LongTable(_base.plan(vf))
    parts = long_table.plan.parts
    batches = [
        long_table.batch(i, a, b)
        for i, p in enumerate(parts)
        for a, b in p.ranges(samples=100, records=7)
    ]
    assert len(batches) > 2 * len(parts)
    check_long_table(pa.Table.from_batches(batches, schema=long_table.schema), vf)


def test_duckdb_on_the_table():
    """The documented queries run on the in-memory table (docs/formats.md)."""
    import duckdb

    vf = load("wave_all_fmts")
    con = duckdb.connect()
    con.register("long", vf.to_arrow("W_F32,W_U16"))
    lengths = con.sql(
        "SELECT track::VARCHAR, sum(len(coalesce(samples_float32, "
        "samples_uint16::FLOAT[]))) FROM long WHERE type = 'wave' "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert lengths == [(n, len(vf.trks[n].samples)) for n in ("SNUADC/W_F32", "SNUADC/W_U16")]
    unnested = con.sql(
        "SELECT unnest(samples_uint16) FROM long WHERE track = 'SNUADC/W_U16'"
    ).fetchall()
    assert [v for (v,) in unnested] == vf.trks["SNUADC/W_U16"].samples.tolist()


# -- polars -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["wave_all_fmts", REAL_FILES[0].name, "string_values"])
def test_to_polars(source):
    import polars as pl

    vf = load(source)
    frame = vf.to_polars()
    table = vf.to_arrow()
    assert frame.columns == table.column_names
    assert frame.schema["track"] == pl.Categorical
    dtypes = {
        "float32": pl.Float32,
        "float64": pl.Float64,
        "int8": pl.Int8,
        "uint8": pl.UInt8,
        "int16": pl.Int16,
        "uint16": pl.UInt16,
        "int32": pl.Int32,
        "uint32": pl.UInt32,
    }
    for column in frames.metadata(table)["samples_columns"]:
        assert frame.schema[column] == pl.List(dtypes[column.removeprefix("samples_")])
    # polars keeps no schema metadata: the table's is put back to check the rows.
    check_long_table(frame.to_arrow().replace_schema_metadata(table.schema.metadata), vf)
    # Not rechunked: one chunk per track, over the model's samples and times.
    assert frame["dt"].n_chunks() == len(vf.trks)
    for trk in vf.trks.values():
        if trk.type == 1 and len(trk.data):
            column = frame[f"samples_{trk.data.dtype.name}"]
            assert trk.data.ctypes.data in {
                c.to_arrow().values.buffers()[1].address for c in column.get_chunks()
            }
    assert {c.to_arrow().buffers()[1].address for c in frame["dt"].get_chunks()} >= {
        t.dt.ctypes.data for t in vf.trks.values() if len(t)
    }


def test_track_metadata_table():
    vf = load(REAL_FILES[0].name)
    table = frames.track_table(_base.plan(vf))
    assert table.column("name").to_pylist() == list(vf.trks)
    assert table.column("records_count").to_pylist() == [len(t) for t in vf.trks.values()]
    assert table.column("dtype").to_pylist() == [
        "string" if t.type == 5 else t.data.dtype.name for t in vf.trks.values()
    ]
