"""Every export format, read back by an independent reader and compared with the model.

Writers run in-process here (``tests/test_cli.py`` runs the command itself). Sources: the
real recordings and the fixtures that carry every dtype, NaN payloads, infinities, empty
and uneven records, odd names and odd track types.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import pathlib
import warnings

import msgpack
import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, REPO, read_source
from test_frames import check_long_table  # the long table's rows against the model
from vitalproc._names import close_names
from vitalproc.ops import selection as _base
from vitalproc.writers import _output, registry
from vitalproc.writers import arrow as arrow_writer
from vitalproc.writers import csv as csv_writer
from vitalproc.writers import json as json_writer
from vitalproc.writers import msgpack as msgpack_writer
from vitalproc.writers import parquet as parquet_writer
from vitalproc.writers import text as text_writer

from fixtures_catalog import FIXTURES

FIXTURE_SOURCES = (
    "wave_all_fmts",
    "numeric_all_fmts",
    "string_values",
    "utf8_names",
    "device_empty_name",
    "track_no_device",
    "wave_nsamp_mismatch",
    "nan_inf_dt",
    "invalid_fmt_and_type",
    "empty_body",
    "header_10",
    "redeclared_new_fmt",
    "reset_events",
    "redeclared_gain",
    "redeclared_five_times",
    "redeclared_interleaved",
    "redeclared_new_rate_type",
    "empty_recording",
)
SOURCES = tuple(p.name for p in REAL_FILES) + FIXTURE_SOURCES
SCHEMA = REPO / "docs" / "vitalproc-export.schema.json"


#: A source read once.
load = functools.cache(read_source)


def written(module, vf, selection=None, **options) -> bytes:
    out = io.BytesIO()
    vitalproc.export(vf, out, module.FORMAT, selection, **options)
    return out.getvalue()


def records(trk) -> list:
    """The model's records: (dt, value) with waves as arrays and strings as text."""
    if trk.type == 1:
        bounds = trk.offsets.tolist()
        values = [trk.samples[a:b] for a, b in zip(bounds, bounds[1:])]
    elif trk.type == 2:
        values = list(trk.values)
    elif trk.type == 5:
        values = trk.texts()
    else:
        values = [None] * len(trk)
    return list(zip(trk.dt.tolist(), values))


def assert_numbers(got: list, want: np.ndarray) -> None:
    """JSON numbers (null for NaN/inf) equal ``want`` bit for bit once read as its dtype."""
    want = np.asarray(want)
    missing = np.array([v is None for v in got], bool)
    nonfinite = ~np.isfinite(want) if want.dtype.kind == "f" else np.zeros(len(want), bool)
    assert missing.tolist() == nonfinite.tolist()
    wide = np.float64 if want.dtype.kind == "f" else np.int64
    values = np.array([0 if v is None else v for v in got], wide).astype(want.dtype)
    assert values[~nonfinite].tobytes() == want[~nonfinite].tobytes()


def assert_dt(got, want: float) -> None:
    assert (got is None) if not math.isfinite(want) else got == want


# -- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_json_holds_every_value_of_the_model(source):
    import jsonschema

    vf = load(source)
    compact = written(json_writer, vf, compact=True)
    doc = json.loads(compact)
    assert json.loads(written(json_writer, vf)) == doc  # the pretty layout: same document
    # (jsonschema takes seconds per MB: the schema is checked on a few records per track)
    sample = json.loads(written(json_writer, vf, _base.Selection(max_records=4)))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(sample)
    assert list(doc["tracks"]) == list(vf.trks)
    assert list(doc["devices"]) == list(vf.devs)
    assert doc["file_info"]["tracks_count"] == len(vf.trks)
    for name, trk in vf.trks.items():
        got = doc["tracks"][name]
        assert (got["type"], got["fmt"], got["unit"], got["gain"]) == (
            trk.type,
            trk.fmt,
            trk.unit,
            trk.gain,
        )
        assert np.float32(got["sample_rate"]) == np.float32(trk.srate)
        assert got["records_count"] == len(got["records"]) == len(trk)
        want = records(trk)
        for rec, (dt, value) in zip(got["records"], want):
            assert_dt(rec["dt"], dt)
            if trk.type == 1:
                assert_numbers(rec["val"], value)
            elif trk.type == 2:
                assert_numbers([rec["val"]], np.array([value]))
            elif trk.type == 5:
                assert rec["val"] == value


def test_json_layouts():
    vf = load("wave_all_fmts")
    compact = written(json_writer, vf, _base.Selection(max_records=1), compact=True)
    assert compact.count(b"\n") == 1 and compact.endswith(b"}\n")
    pretty = written(json_writer, vf, _base.Selection(max_records=2)).decode()
    assert pretty.startswith('{\n  "file_info": {\n    "dt_start": ')
    records_lines = [ln for ln in pretty.splitlines() if ln.startswith(" " * 8 + '{"dt":')]
    assert len(records_lines) == 2 * len(vf.trks)  # one record per line
    assert b"null" in compact  # NaN and infinities, never a bare NaN token


def test_json_summary_and_listings():
    vf = load(REAL_FILES[0].name)
    doc = json.loads(written(json_writer, vf, _base.Selection(summary=True, records=False)))
    for name, trk in vf.trks.items():
        t = doc["tracks"][name]
        assert "records" not in t and t["records_count"] == len(trk)
        assert t["first_record"]["dt"] == trk.dt[0] and t["last_record"]["dt"] == trk.dt[-1]
    only = json.loads(
        written(json_writer, vf, _base.Selection(sections=("tracks",), records=False))
    )
    assert list(only) == ["tracks"] and "records" not in next(iter(only["tracks"].values()))
    info = json.loads(written(json_writer, vf, _base.Selection(sections=("file_info",))))
    assert list(info) == ["file_info"] and info["file_info"]["dt_start"] == vf.dtstart
    empty = load("empty_body")
    assert json.loads(written(json_writer, empty, _base.Selection(summary=True))) == {
        "file_info": json.loads(written(json_writer, empty))["file_info"],
        "devices": {},
        "tracks": {},
    }


# -- MessagePack ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_msgpack_holds_every_value_of_the_model(source):
    vf = load(source)
    doc = msgpack.unpackb(written(msgpack_writer, vf), raw=False)
    assert list(doc) == ["file_info", "devices", "tracks"]
    assert list(doc["tracks"]) == list(vf.trks)
    for name, trk in vf.trks.items():
        got = doc["tracks"][name]
        assert got["records_count"] == len(got["records"]) == len(trk)
        for rec, (dt, value) in zip(got["records"], records(trk)):
            assert rec["dt"] == dt or (math.isnan(dt) and math.isnan(rec["dt"]))
            if trk.type == 1:
                dtype = "<" + np.dtype(got["dtype"]).str[1:]
                assert np.frombuffer(rec["val"], dtype).tobytes() == value.tobytes()
            elif trk.type == 2:
                same = np.array([rec["val"]]).astype(value.dtype)
                assert same.tobytes() == np.array([value]).tobytes() or (
                    np.isnan(value) and np.isnan(same[0])
                )
            elif trk.type == 5:
                assert rec["val"] == value


def test_msgpack_types_mirror_the_dtype():
    raw = written(
        msgpack_writer,
        load("numeric_all_fmts"),
        _base.Selection(tracks=["N_I16"], max_records=1, sections=("tracks",)),
    )
    # {"dt": float 64, "val": int 16}: the value keeps its width
    assert b"\xa3val\xd1\x80\x00" in raw
    raw = written(
        msgpack_writer,
        load("numeric_all_fmts"),
        _base.Selection(tracks=["N_F32"], max_records=3, sections=("tracks",)),
    )
    assert b"\xa3val\xca\x3f\xc0\x00\x00" in raw  # 1.5 as float 32


def test_msgpack_readme_example():
    """The docs' snippet: a wave's records joined and read back with its dtype."""
    vf = load(REAL_FILES[0].name)
    doc = msgpack.unpackb(written(msgpack_writer, vf))
    name = next(n for n, t in vf.trks.items() if t.type == 1)
    trk = doc["tracks"][name]
    samples = np.frombuffer(
        b"".join(r["val"] for r in trk["records"]), "<" + np.dtype(trk["dtype"]).str[1:]
    )
    assert (samples == vf.trks[name].samples).all()


#: A source read again: its tracks still hold the reader's buffers, no arrays.
read_fresh = read_source


def msgpack_of(plan) -> bytes:
    out = io.BytesIO()
    msgpack_writer.write_plan(plan, out)
    return out.getvalue()


@pytest.mark.parametrize("source", SOURCES)
def test_msgpack_from_the_readers_buffers_is_the_same(source, monkeypatch):
    """The plan over the reader's own buffers (no numpy: what the command writes when
    nothing is selected) gives the bytes of the plan over numpy arrays."""
    from vitalproc.writers import _raw

    for sel in (
        None,
        _base.Selection(max_records=3),
        _base.Selection(max_records=0),
        _base.Selection(summary=True, records=False),
        _base.Selection(sections=("tracks",), records=False),
        _base.Selection(tracks=["HR", "*ECG*", "NOPE"]),
        _base.Selection(types=frozenset({1, 5}), max_tracks=3),
    ):
        vf = read_fresh(source)
        raw = _raw.raw_plan(vf, sel, source)
        assert raw is not None and all(isinstance(p, _raw.RawPart) for p in raw.parts)
        got = msgpack_of(raw)
        want = _base.plan(vf, sel, source)
        assert (raw.unmatched, raw.devices) == (want.unmatched, want.devices)
        assert got == msgpack_of(want), sel
    vf = read_fresh(source)
    monkeypatch.setattr(_base, "BATCH_SAMPLES", 7)
    monkeypatch.setattr(_base, "BATCH_RECORDS", 3)
    assert msgpack_of(_raw.raw_plan(vf)) == msgpack_of(_base.plan(vf))


def json_of(plan, compact) -> bytes:
    out = io.BytesIO()
    json_writer.write_plan(plan, out, compact=compact)
    return out.getvalue()


@pytest.mark.parametrize("source", SOURCES)
def test_json_from_the_readers_buffers_is_the_same(source, monkeypatch):
    """JSON without numpy (integer samples by the compiled writer, float32 numerics as
    their shortest decimals) gives the bytes of the numpy way, in both layouts; so does
    a numeric track that leaves that way half-written (too many distinct values)."""
    from vitalproc.writers import _raw

    sels = (
        None,
        _base.Selection(max_records=3),
        _base.Selection(max_records=0),
        _base.Selection(summary=True, records=False),
        _base.Selection(tracks=["HR", "*ECG*", "NOPE"]),
    )
    for sel in sels:
        for compact in (True, False):
            vf = read_fresh(source)
            raw = _raw.raw_plan(vf, sel, source)  # first: a numpy plan ends the buffers
            assert raw is not None
            got = json_of(raw, compact)
            assert got == json_of(_base.plan(vf, sel, source), compact), (sel, compact)
    monkeypatch.setattr(_base, "BATCH_SAMPLES", 7)
    monkeypatch.setattr(_base, "BATCH_RECORDS", 3)
    monkeypatch.setattr(json_writer, "NEW_VALUES_MAX", 2)
    vf = read_fresh(source)
    got = json_of(_raw.raw_plan(vf), True)
    assert got == json_of(_base.plan(vf), True)


def float32_samples() -> np.ndarray:
    """float32 values where a shortest decimal is easy to get wrong: every power of two
    (its lower neighbour is closer than its upper one), subnormals, the largest values,
    signed zeros, both ends of each decade, one-decimal sensor readings, random bits."""
    rng = np.random.default_rng(7)
    bits = [
        np.arange(0, 255, dtype=np.uint32) << 23,  # powers of two (and 0)
        np.arange(1, 4096, dtype=np.uint32),  # subnormals
        np.array([0x7F7FFFFF, 0x00800000, 0x80000000, 0x7F800000, 0x7FC00000], np.uint32),
        rng.integers(0, 2**32, 400_000, dtype=np.uint64).astype(np.uint32),
    ]
    bits.append(bits[0] + 1)
    bits.append(bits[0] - 1)
    values = np.concatenate(
        [
            np.concatenate(bits).view(np.float32),
            (np.arange(-20000, 20000) / 10).astype(np.float32),
            np.float32(10.0) ** np.arange(-45, 39).astype(np.float32),
        ]
    )
    return np.concatenate([values, -values])


def test_float32_text_is_orjsons_for_every_kind_of_value():
    """The numpy-free JSON's float32 numbers (``_f32.f32_text``) are orjson's text of the
    float32 itself, digits and layout, for every kind of value."""
    import orjson

    from vitalproc import _f32

    values = float32_samples()
    want = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
    widened = memoryview(values).tolist()  # as a raw part's values: no numpy cast warning
    got = f"[{','.join(_f32.f32_text(v) for v in widened)}]".encode()
    if got != want:  # name the first value that differs
        for value, ours in zip(values, (_f32.f32_text(v) for v in widened)):
            theirs = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
            assert ours == theirs, hex(int(value.view(np.uint32)))
    assert got == want


@pytest.mark.parametrize("dtype", ["i1", "u1", "<i2", "<u2", "<i4", "<u4"])
def test_integer_records_are_written_as_orjson_writes_them(dtype):
    import orjson

    from vitalproc.writers import _text

    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    samples = np.concatenate(
        [
            [info.min, info.max, 0, -1 if info.min else 1, 9, 10, 99, 100, 101],
            rng.integers(info.min, info.max, 5000, endpoint=True),
        ]
    ).astype(dtype)
    offsets = np.array([0, 0, 1, 9, 9, 700, 5009], np.int64)  # empty records too
    dts = [1.5, float("nan"), 1e22, -0.0, 1711115999.1057465, 3.0]
    want = orjson.dumps(
        [{"dt": dt, "val": samples[a:b]} for dt, a, b in zip(dts, offsets[:-1], offsets[1:])],
        option=orjson.OPT_SERIALIZE_NUMPY,
    )[1:-1]
    dt_json = orjson.dumps(dts)
    view = memoryview(samples)
    assert bytes(_text.wave_records(dt_json, view, memoryview(offsets), 0, 6)) == want
    part = orjson.dumps(
        [{"dt": dt, "val": samples[a:b]} for dt, a, b in zip(dts[2:4], offsets[2:4], offsets[3:5])],
        option=orjson.OPT_SERIALIZE_NUMPY,
    )[1:-1]
    assert bytes(_text.wave_records(orjson.dumps(dts[2:4]), view, offsets, 2, 4)) == part
    assert bytes(_text.wave_records(b"[]", view, offsets, 3, 3)) == b""
    for bad_dts in (b"[1.5]", b"[1,2,3,4,5,6,7]", b"1,2"):
        with pytest.raises(ValueError):
            _text.wave_records(bad_dts, view, offsets, 0, 6)
    with pytest.raises(IndexError):
        _text.wave_records(dt_json, view, offsets, 1, 7)
    with pytest.raises(IndexError):
        _text.wave_records(b"[1]", view, np.array([0, 5010], np.int64), 0, 1)


def test_raw_plan_needs_the_readers_buffers_and_frees_them():
    from vitalproc.writers import _raw

    vf = read_fresh(REAL_FILES[0].name)
    for sel in (
        _base.Selection(start=0.0),
        _base.Selection(end=2e9),
        _base.Selection(physical=True),
    ):
        assert _raw.raw_plan(vf, sel) is None  # these need numpy
    name = next(iter(vf.trks))
    raw = _raw.raw_plan(vf)
    want = msgpack_of(_base.plan(read_fresh(REAL_FILES[0].name)))
    raw.release = True
    assert msgpack_of(raw) == want
    assert vf.trks == {} and all(len(p.track) == 0 for p in raw.parts)
    vf = read_fresh(REAL_FILES[0].name)
    assert vf.trks[name].raw_columns() is not None
    assert len(vf.trks[name].dt) == len(vf.trks[name])  # arrays made: numpy is loaded
    assert vf.trks[name].raw_columns() is None and _raw.raw_plan(vf) is None


def test_msgpack_encoding_is_msgpacks():
    """The writer packs its metadata itself: as msgpack-python packs it."""
    values = [
        None,
        True,
        False,
        0,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2**32 - 1,
        2**32,
        2**64 - 1,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -(2**31),
        -(2**31) - 1,
        -(2**63),
        0.0,
        -0.0,
        1.5,
        math.inf,
        "",
        "a" * 31,
        "a" * 32,
        "é" * 128,
        "x" * 65536,
        b"",
        b"x" * 255,
        b"x" * 256,
        b"x" * 65536,
        {},
        {"a": [1, "b"]},
        {str(i): i for i in range(16)},
        list(range(15)),
        list(range(65536)),
        (1, 2),
    ]
    for value in values:
        assert msgpack_writer._pack(value) == msgpack.packb(value, use_bin_type=True)
    assert msgpack_writer._pack(math.nan)[:1] == b"\xcb"
    with pytest.raises(TypeError):
        msgpack_writer._pack(object())


# -- CSV --------------------------------------------------------------------------------------


def parse_number(text: str, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    return np.array([float(text) if dtype.kind == "f" else int(text)]).astype(dtype)


@pytest.mark.parametrize("source", SOURCES)
def test_csv_rows_are_the_model(source):
    vf = load(source)
    rows = list(csv.reader(io.StringIO(written(csv_writer, vf).decode(), newline="")))
    assert rows[0] == ["track", "dt", "value"]
    rows = rows[1:]
    at = 0
    for name, trk in vf.trks.items():
        for dt, value in records(trk):
            if trk.type == 1:
                n = len(value)
                mine = rows[at : at + n]
                assert all(r[0] == name for r in mine)
                times = np.array([float(r[1]) for r in mine])
                step = np.arange(n) / trk.srate if trk.srate > 0 else np.zeros(n)
                np.testing.assert_array_equal(times, dt + step)
                got = (
                    np.concatenate([parse_number(r[2], value.dtype) for r in mine])
                    if n
                    else value[:0]
                )
                assert got.tobytes() == value.tobytes() or np.array_equal(
                    got, value, equal_nan=True
                )
                at += n
                continue
            row = rows[at]
            at += 1
            assert row[0] == name
            assert float(row[1]) == dt or math.isnan(dt)
            if trk.type == 2:
                got = parse_number(row[2], value.dtype)
                assert got.tobytes() == np.array([value]).tobytes() or np.isnan(value)
            elif trk.type == 5:
                assert row[2] == value
    assert at == len(rows)


def test_csv_wave_cells_and_quoting():
    vf = load("utf8_names")  # odd names, quoted only when they must be
    text = written(
        csv_writer, load("wave_all_fmts"), _base.Selection(tracks=["W_I16"]), wave_cells=True
    ).decode()
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert len(rows) == 2 and json.loads(rows[0][2]) == [-32768, 32767, 0, -1, 1]
    strings = written(csv_writer, load("string_values")).decode()
    parsed = list(csv.reader(io.StringIO(strings, newline="")))[1:]
    assert [r[2] for r in parsed] == [
        v for t in load("string_values").trks.values() for v in t.texts()
    ]
    assert all(
        line.startswith(b"Orchestra/EVENT_LOG,")  # quoted only when needed
        for line in written(csv_writer, load("string_values")).splitlines()[1:2]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        odd = vitalproc.read(FIXTURES["string_values"]())
    trk = next(iter(odd.trks.values()))
    text = b'a,"b"\nc'
    trk.data = np.frombuffer(text, np.uint8).copy()
    trk.offsets = np.array([0, len(text)], np.int64)
    trk.dt = trk.dt[:1].copy()
    lines = written(csv_writer, odd, _base.Selection(tracks=[trk.name])).decode()
    assert lines.split("\n", 1)[1] == f'Orchestra/EVENT_LOG,{trk.dt[0]:.0f},"a,""b""\nc"\n'
    assert written(csv_writer, vf)  # writes without error whatever the names hold


def test_csv_listings():
    vf = load(REAL_FILES[0].name)
    tracks = list(
        csv.DictReader(
            io.StringIO(
                written(
                    csv_writer, vf, _base.Selection(sections=("tracks",), records=False)
                ).decode()
            )
        )
    )
    assert [r["name"] for r in tracks] == list(vf.trks)
    assert [int(r["records_count"]) for r in tracks] == [len(t) for t in vf.trks.values()]
    summary = list(
        csv.DictReader(
            io.StringIO(
                written(csv_writer, vf, _base.Selection(summary=True, records=False)).decode()
            )
        )
    )
    assert float(summary[0]["first_dt"]) == next(iter(vf.trks.values())).dt[0]
    devices = written(
        csv_writer, vf, _base.Selection(sections=("devices",), records=False)
    ).decode()
    assert devices.splitlines()[0] == "name,type_name,port"
    with pytest.raises(ValueError, match="one table"):
        written(csv_writer, vf, _base.Selection(sections=("file_info", "devices"), records=False))


# -- the long table: Arrow, polars, Parquet, Arrow IPC ----------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_arrow_parquet_polars_duckdb(source, tmp_path):
    import duckdb
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    vf = load(source)
    table = vf.to_arrow()
    check_long_table(table, vf)
    vitalproc.export(vf, tmp_path / "x.parquet", "parquet")
    from_parquet = pq.read_table(tmp_path / "x.parquet")
    check_long_table(from_parquet, vf)
    vitalproc.export(vf, tmp_path / "x.arrow", "arrow")
    with pa.memory_map(str(tmp_path / "x.arrow")) as source_file:
        check_long_table(pa.ipc.open_file(source_file).read_all(), vf)
    frame = pl.read_parquet(tmp_path / "x.parquet")
    assert frame.height == table.num_rows
    np.testing.assert_array_equal(frame["dt"].to_numpy(), table.column("dt").to_numpy())
    counts = duckdb.sql(
        f"SELECT track::VARCHAR, count(*) FROM '{tmp_path / 'x.parquet'}' GROUP BY 1"
    ).fetchall()
    assert dict(counts) == {n: len(t) for n, t in vf.trks.items() if len(t)}


def test_physical_values():
    vf = load(REAL_FILES[0].name)
    table = vf.to_arrow(physical=True)
    check_long_table(table, vf, physical=True)
    doc = json.loads(written(json_writer, vf, _base.Selection(physical=True, max_records=1)))
    wave = next(n for n, t in vf.trks.items() if t.type == 1)
    assert doc["tracks"][wave]["dtype"] == "float64" and doc["tracks"][wave]["physical"]
    trk = vf.trks[wave]
    want = trk.samples[: trk.offsets[1]] * trk.gain + trk.offset
    np.testing.assert_array_equal(doc["tracks"][wave]["records"][0]["val"], want)


# -- selection --------------------------------------------------------------------------------


def names(vf, **selection) -> list[str]:
    return [p.name for p in _base.plan(vf, _base.Selection(**selection)).parts]


def test_track_selectors():
    vf = load(REAL_FILES[0].name)
    every = list(vf.trks)
    dev = next(iter(vf.devs))
    assert names(vf) == every
    assert names(vf, tracks=["HR"]) == [n for n in every if n.endswith("HR")]
    assert names(vf, tracks=[f"{dev}/*"]) == [n for n in every if n.startswith(f"{dev}/")]
    assert names(vf, tracks=["*_HR"]) == [n for n in every if n.endswith("_HR")]
    assert names(vf, tracks=["PLETH*"]) == [
        n for n in every if n.split("/")[-1].startswith("PLETH")
    ]
    assert names(vf, exclude=["*HR"]) == [n for n in every if not n.endswith("HR")]
    assert names(vf, types=frozenset({1})) == [n for n, t in vf.trks.items() if t.type == 1]
    assert names(vf, max_tracks=2) == every[:2]
    found = _base.plan(vf, _base.Selection(tracks=["HRX", "HR"]))
    assert found.unmatched == ["HRX"]
    assert f"{dev}/HR" in close_names("HRX", every)
    assert _base.Selection(tracks=["HR", "A/*"]).pushdown() == (["HR", "A/*"], None)
    assert _base.Selection(tracks=["H?"], exclude=["X"]).pushdown() == (None, ["X"])


def test_time_window_and_record_limit():
    vf = load(REAL_FILES[0].name)
    trk = next(t for t in vf.trks.values() if t.type == 1)
    name = f"{trk.dname}/{trk.name}"
    start, end = trk.dt[3], trk.dt[7]
    part = _base.plan(vf, _base.Selection(tracks=[name], start=start, end=end)).parts[0]
    np.testing.assert_array_equal(part.dt, trk.dt[3:7])
    assert np.shares_memory(part.dt, trk.dt)  # a sorted window is a view
    part = _base.plan(vf, _base.Selection(tracks=[name], start=start, max_records=2)).parts[0]
    np.testing.assert_array_equal(part.dt, trk.dt[3:5])
    samples, offsets = part.samples(0, 2)
    np.testing.assert_array_equal(samples, trk.samples[trk.offsets[3] : trk.offsets[5]])
    assert offsets[0] == 0


def test_unsorted_times_are_gathered():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(REAL_FILES[0])
    trk = next(t for t in vf.trks.values() if t.type == 1)
    order = np.arange(len(trk))[::-1]
    bounds = trk.offsets
    trk.data = np.concatenate([trk.samples[bounds[i] : bounds[i + 1]] for i in order])
    trk.offsets = np.concatenate([[0], np.cumsum(np.diff(bounds)[order])])
    trk.dt = trk.dt[order].copy()
    mid = np.sort(trk.dt)[len(trk) // 2]
    name = f"{trk.dname}/{trk.name}"
    part = _base.plan(vf, _base.Selection(tracks=[name], start=mid)).parts[0]
    assert (part.dt >= mid).all() and len(part) == (trk.dt >= mid).sum()
    doc = json.loads(written(json_writer, vf, _base.Selection(tracks=[name], start=mid)))
    for rec, (dt, value) in zip(
        doc["tracks"][name]["records"], [r for r in records(trk) if r[0] >= mid]
    ):
        assert rec["dt"] == dt and rec["val"] == value.tolist()


def test_devices_follow_the_track_selection():
    vf = load("track_no_device")
    plan = _base.plan(vf, _base.Selection(tracks=["*"]))
    assert {d.name for d in plan.devices} <= {p.track.dname for p in plan.parts}
    assert _base.plan(vf).devices == list(vf.devs.values())


# -- streaming, determinism, safety -----------------------------------------------------------

WRITERS = (json_writer, msgpack_writer, csv_writer, parquet_writer, arrow_writer, text_writer)


@pytest.mark.parametrize("module", WRITERS, ids=lambda m: m.FORMAT)
def test_small_batches_give_the_same_output(module, monkeypatch):
    vf = load(REAL_FILES[-1].name)
    whole = written(module, vf)
    assert written(module, vf) == whole  # deterministic
    monkeypatch.setattr(_base, "BATCH_SAMPLES", 7)
    monkeypatch.setattr(_base, "BATCH_RECORDS", 3)
    monkeypatch.setattr(csv_writer, "BATCH_SAMPLES", 5)
    monkeypatch.setattr(parquet_writer, "ROW_GROUP_BYTES", 1000)
    parts = list(_base.plan(vf).parts[-1].ranges())
    assert len(parts) > 1
    batched = written(module, vf)
    if module is parquet_writer:  # row groups differ; the table does not
        import pyarrow.parquet as pq

        assert pq.read_table(io.BytesIO(batched)).equals(pq.read_table(io.BytesIO(whole)))
    elif module is arrow_writer:  # record batches differ; the table does not
        import pyarrow as pa

        assert pa.ipc.open_file(batched).read_all().equals(pa.ipc.open_file(whole).read_all())
    else:
        assert batched == whole


def test_background_writer_hands_errors_back():
    class Broken(io.RawIOBase):
        def writable(self):
            return True

        def write(self, data):
            raise BrokenPipeError("reader went away")

    stream = _output.BackgroundWriter(Broken())
    with pytest.raises(BrokenPipeError):
        for _ in range(100):
            stream.write(b"x" * _output.BackgroundWriter.CHUNK)
    with pytest.raises(BrokenPipeError):
        stream.close()


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    vf = load(REAL_FILES[0].name)
    target = tmp_path / "out.json"

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(json_writer, "records_text", fail)
    with pytest.raises(RuntimeError):
        vitalproc.export(vf, target, "json")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    vitalproc.export(vf, target, "json")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert json.loads(target.read_bytes())["tracks"]


def test_registry_matches_the_writers():
    for fmt in registry.FORMATS.values():
        module = fmt.load()
        assert (module.FORMAT, tuple(module.SUFFIXES), module.BINARY) == (
            fmt.name,
            fmt.suffixes,
            fmt.binary,
        )
        assert module.is_available()
        assert registry.for_path(f"x{fmt.suffixes[0].upper()}") is fmt
    assert registry.for_path("x.vital") is None
    with pytest.raises(KeyError, match="known: json"):
        registry.get("xml")


def test_text_layout():
    vf = load(REAL_FILES[0].name)
    text = written(text_writer, vf, _base.Selection(max_records=1)).decode()
    assert text.startswith("=== File ===\nstart      ")
    assert "=== Devices ===" in text and "=== Tracks ===" in text
    wave = next(t for t in vf.trks.values() if t.type == 1)
    head = " ".join(str(v) for v in wave.samples[: text_writer.WAVE_PREVIEW])
    assert f"[{head} ... {wave.offsets[1]} samples]" in text
    summary = written(text_writer, vf, _base.Selection(summary=True, records=False)).decode()
    assert f"{len(wave)} records" in summary and "    first  " in summary
    assert text_writer.record_times(np.array([0.0, np.nan]), -540) == [
        "1970-01-01 09:00:00.000",
        "NaT",
    ]


def test_shortest_float32():
    for value in (0.1, 62.5, 1e-45, 3.4028235e38, 1 / 3):
        short = _base.shortest_f32(float(np.float32(value)))
        assert np.float32(short) == np.float32(value)
        assert len(repr(short)) <= len(repr(float(np.float32(value))))
    assert math.isnan(_base.shortest_f32(math.nan))


def test_docs_duckdb_queries(tmp_path):
    import duckdb

    vf = load(REAL_FILES[0].name)
    vitalproc.export(vf, tmp_path / "case.parquet", "parquet")
    path = tmp_path / "case.parquet"
    numeric = duckdb.sql(
        f"SELECT track, count(*), avg(value) FROM '{path}' WHERE type = 'numeric' GROUP BY track"
    ).fetchall()
    assert len(numeric) == sum(t.type == 2 for t in vf.trks.values())
    wave = next(n for n, t in vf.trks.items() if t.type == 1)
    samples = duckdb.sql(
        f"SELECT dt, unnest(samples_uint16) FROM '{path}' WHERE track = '{wave}'"
    ).fetchall()
    assert [s for _, s in samples] == vf.trks[wave].samples.tolist()
    mixed = load("wave_all_fmts")
    vitalproc.export(mixed, path, "parquet", _base.Selection(tracks=["W_F32", "W_U16"]))
    waves = duckdb.sql(
        f"SELECT track, dt, coalesce(samples_float32, samples_uint16::FLOAT[]) "
        f"AS samples FROM '{path}' WHERE type = 'wave'"
    ).fetchall()
    names = ["SNUADC/W_F32", "SNUADC/W_U16"]
    assert [t for t, _, _ in waves] == [n for n in names for _ in range(len(mixed.trks[n]))]
    np.testing.assert_array_equal(  # NaN where the float32 wave has NaN
        np.concatenate([np.array(s, np.float32) for _, _, s in waves]),
        np.concatenate([mixed.trks[n].samples.astype(np.float32) for n in names]),
    )


def test_formats_doc_names_every_format():
    doc = (REPO / "docs" / "formats.md").read_text()
    for fmt in registry.FORMATS.values():
        assert f"--format {fmt.name}" in doc
        assert all(f"`{s}`" in doc for s in fmt.suffixes)
    assert pathlib.Path(SCHEMA).exists()


def test_export_entry_point_picks_the_format(tmp_path):
    """``vitalproc.export``: the format from the name or the suffix, the same bytes
    either way, and a clear error where neither says which."""
    vf = read_source(REAL_FILES[0].name)
    for name, suffix in (
        ("json", ".json"),
        ("msgpack", ".msgpack"),
        ("csv", ".csv"),
        ("text", ".txt"),
        ("parquet", ".parquet"),
        ("arrow", ".arrow"),
    ):
        by_suffix, by_name = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        vitalproc.export(vf, by_suffix)
        vitalproc.export(vf, by_name, name.upper())
        assert by_suffix.stat().st_size > 0
        if name not in ("parquet", "arrow"):  # (their metadata holds no path, but
            assert by_suffix.read_bytes() == by_name.read_bytes()  # compare the text ones)
    out = io.BytesIO()
    vitalproc.export(vf, out, "json", compact=True)
    assert json.loads(out.getvalue())["file_info"]["tracks_count"] == len(vf.trks)
    with pytest.raises(ValueError, match="cannot tell the format"):
        vitalproc.export(vf, tmp_path / "case.unknown")
    with pytest.raises(ValueError, match="cannot tell the format"):
        vitalproc.export(vf, io.BytesIO())
    with pytest.raises(KeyError, match="unknown format 'xml'"):
        vitalproc.export(vf, tmp_path / "x.xml", "xml")
    with pytest.raises(TypeError):
        vitalproc.export(vf, io.BytesIO(), "msgpack", compact=True)
    assert not (tmp_path / "case.unknown").exists()
