"""The compiled fast paths of the grid and of the CSV export, each against a brute-force
reference: numpy one sample at a time, vitaldb itself, or Arrow's CSV writer."""

from __future__ import annotations

import io
import struct
import sys
import warnings

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import vitalproc
from conftest import reference
from vitalproc.ops import _grid
from vitalproc.writers import _text
from vitalproc.writers import csv as csv_writer

from parity import same_value
from vitalbytes import F32, I16, NUM, WAVE, VitalBuilder, gzip_bytes

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
T0 = 1_700_000_000.0


# ---- overlapping runs: paint_samples -----------------------------------------------------


def _paint_brute(positions, start, first, count):
    """The buffer vitaldb fills, one record after the other, read at ``positions``."""
    size = int(max([0, *(s + c for s, c in zip(start, count))]))
    buf = np.full(size + 1, -1, np.int64)
    for s, f, c in zip(start, first, count):
        buf[s : s + c] = np.arange(f, f + c)
    return np.array([buf[p] if p < size else -1 for p in positions], np.int64)


@SETTINGS
@given(st.data())
def test_paint_samples_is_the_buffer_written_in_file_order(data):
    nruns = data.draw(st.integers(0, 12))
    start = np.array(
        data.draw(st.lists(st.integers(0, 60), min_size=nruns, max_size=nruns)), np.int64
    )
    count = np.array(
        data.draw(st.lists(st.integers(0, 30), min_size=nruns, max_size=nruns)), np.int64
    )
    first = (np.cumsum(count) - count).astype(np.int64)
    positions = np.array(sorted(data.draw(st.lists(st.integers(0, 100), max_size=80))), np.int64)
    got = _grid.paint_samples(positions, start, first, count)
    assert got.tolist() == _paint_brute(positions, start, first, count).tolist()


def test_paint_samples_checks_its_runs():
    with pytest.raises(ValueError):
        _grid.paint_samples(
            np.arange(3, dtype=np.int64),
            np.zeros(2, np.int64),
            np.zeros(1, np.int64),
            np.zeros(2, np.int64),
        )


# ---- wave_runs: vitaldb's placement of records ----------------------------------------


def _wave_runs_numpy(dt, offsets, dtstart, srate, nsamp):
    count = np.diff(offsets)
    start_f = np.ceil((dt - dtstart) * srate)
    with np.errstate(invalid="ignore"):
        shows = (count > 0) & (start_f < nsamp) & (start_f + count > 0)
    recs = np.flatnonzero(shows)
    start, first, count = start_f[recs].astype(np.int64), offsets[recs], count[recs]
    cut = np.maximum(-start, 0)
    start, first, count = start + cut, first + cut, count - cut
    count = np.minimum(count, nsamp - start)
    return start, first, count


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(-20, 80), st.just(float("nan")), st.just(float("inf")), st.just(-1e300)
            ),
            st.integers(0, 25),
        ),
        max_size=15,
    ),
    st.integers(1, 120),
)
def test_wave_runs_places_records_as_vitaldb(records, nsamp):
    dt = T0 + np.array([r[0] for r in records], np.float64)
    offsets = np.concatenate([[0], np.cumsum([r[1] for r in records])]).astype(np.int64)
    start, first, count, ordered = _grid.wave_runs(dt, offsets, T0, 1.0, nsamp)
    ref = _wave_runs_numpy(dt, offsets, T0, 1.0, nsamp)
    assert [start.tolist(), first.tolist(), count.tolist()] == [r.tolist() for r in ref]
    end = start + count
    assert ordered == bool(np.all(start[1:] >= start[:-1]) and np.all(end[1:] >= end[:-1]))


# ---- numeric tracks: record_rows and put_records -------------------------------------


def _put_numpy(nret, dt, values, dtstart, interval):
    out = np.full(nret, np.nan, np.float32)
    for t, v in zip(dt.tolist(), values):
        x = (t - dtstart) / interval
        if x != x:
            continue
        out[int(min(max(x, 0.0), nret - 1))] = np.float32(float(v))  # via a Python float
    return out


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(-5, 40),
                st.just(float("nan")),
                st.just(float("inf")),
                st.just(float("-inf")),
            ),
            st.floats(width=32, allow_nan=True),
        ),
        max_size=30,
    ),
    st.integers(1, 30),
    st.sampled_from([np.float32, np.float64, np.int16]),
)
def test_put_records_is_last_record_wins(records, nret, dtype):
    dt = T0 + np.array([r[0] for r in records], np.float64)
    if dtype is np.int16:
        values = np.array([r[1] if np.isfinite(r[1]) else 0 for r in records])
        values = np.clip(values, -32768, 32767).astype(np.int16)
    else:
        values = np.array([r[1] for r in records], dtype)
    out = np.full(nret, np.nan, np.float32)
    _grid.put_records(out, dt, values, T0, 1.0)
    assert out.tobytes() == _put_numpy(nret, dt, values, T0, 1.0).tobytes()
    rows = _grid.record_rows(dt, T0, 1.0, nret)
    expected = [-1 if np.isnan(t) else int(min(max(t - T0, 0.0), nret - 1)) for t in dt]
    assert rows.tolist() == expected


def test_put_records_quiets_a_signalling_nan_as_a_python_float_does():
    snan = np.frombuffer(struct.pack("<I", 0x7F800001), np.float32)
    out = np.zeros(1, np.float32)
    _grid.put_records(out, np.array([T0]), snan, T0, 1.0)
    assert out.tobytes() == np.float32(float(snan[0])).tobytes()


def test_put_numerics_writes_each_track_on_its_row_and_checks_them():
    block = np.full((3, 4), np.nan, np.float32)
    _grid.put_numerics(
        block,
        [0, 2],
        [np.array([T0, T0 + 2.5]), np.array([T0 + 3])],
        [np.array([1, 2], np.int32), np.array([7.5])],
        T0,
        1.0,
    )
    assert np.array_equal(
        block, [[1, np.nan, 2, np.nan], [np.nan] * 4, [np.nan] * 3 + [7.5]], equal_nan=True
    )
    with pytest.raises(IndexError):
        _grid.put_numerics(block, [3], [np.array([T0])], [np.array([1.0])], T0, 1.0)
    with pytest.raises(TypeError):
        _grid.put_numerics(
            block.astype(np.float64), [0], [np.array([T0])], [np.array([1.0])], T0, 1.0
        )


# ---- overlapping records end to end, against vitaldb ------------------------------------


def _demo_device_file(fmt):
    """A simulator's shape: a long record per track, short ones before, inside (starting
    within the long one, overlapping it) and after it, out of time order."""
    rng = np.random.default_rng(7)
    b = VitalBuilder().header(dtstart=T0, dtend=T0 + 120)
    b.device(1, "Demo", "Demo")
    for tid in (1, 2):
        b.track(tid, WAVE, fmt, f"W{tid}", srate=100, gain=0.5, offset=1.0, did=1)
    b.track(3, NUM, F32, "HR", did=1)

    def samples(n):
        return (
            rng.integers(-900, 900, n).tolist()
            if fmt == I16
            else rng.normal(0, 50, n).astype(np.float32).tolist()
        )

    for tid in (1, 2):
        b.wave(tid, T0 + 10.004, samples(6000))
    for dt in (1.0, 20.0, 33.333, 45.1, 69.99, 80.0, 5.0):
        for tid in (1, 2):
            b.wave(tid, T0 + dt + tid * 0.013, samples(int(rng.integers(10, 24))))
        b.number(3, T0 + dt, float(rng.normal(70, 3)))
    return gzip_bytes(b.bytes())


@pytest.mark.parametrize("fmt", [F32, I16])
@pytest.mark.parametrize("interval", [1, 0.01, 1 / 7, 0.002])
def test_overlapping_records_grid_is_vitaldb_s(fmt, interval):
    gz = _demo_device_file(fmt)
    ref = reference(gz)
    ours = vitalproc.read(io.BytesIO(gz), compat="vitaldb")
    names = ref.get_track_names()
    expected = ref.to_numpy(names, interval)
    got = ours.to_numpy(names, interval)
    assert same_value(np.ascontiguousarray(got), np.ascontiguousarray(expected))
    # The object grid (with the time column) goes through the same lookup.
    expected = ref.to_numpy(names, interval, return_datetime=True)
    got = ours.to_numpy(names, interval, return_datetime=True)
    assert got.shape == expected.shape
    for a, b in zip(got[:, 1:].ravel().tolist(), expected[:, 1:].ravel().tolist()):
        assert a == b or (a != a and b != b)


# ---- the CSV formatter: Arrow's text of a double ---------------------------------------


def _arrow_text(values):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sink = pa.BufferOutputStream()
    table = pa.Table.from_arrays([pa.array(np.asarray(values, np.float64))], names=["x"])
    pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    return sink.getvalue().to_pybytes().decode().splitlines()


def test_format_double_writes_what_arrow_writes():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            T0 + rng.random(3000) * 1e5,  # times
            T0 + 0.1057465 + np.arange(3000) / 300,  # per-sample times
            np.round(T0 + rng.random(2000) * 1e4, 2),  # few decimals
            10 ** rng.uniform(-3, 10, 4000),  # every magnitude handled
            -rng.random(1000) * 1e3,
            [1e-3, 0.0015, 1.0 + 2**-52, 9999999999.5, 1234567890.0, 0.1, 0.3, 2 / 3],
        ]
    )
    expected = _arrow_text(values)
    handled = 0
    for x, text in zip(values.tolist(), expected):
        got = _text.format_double(x)
        if got is not None:
            handled += 1
            assert got == text, x
    assert handled > 0.99 * len(values)


@pytest.mark.parametrize(
    "x", [0.0, -0.0, float("nan"), float("inf"), 1e10, 1e15, 5e-4, 1e-300, 2.0, 0.5, 1024.0]
)
def test_format_double_leaves_other_values_to_arrow(x):
    # Exponents, zeros, non-finite values and powers of two (whose gap below is
    # narrower) are Arrow's to write.
    assert _text.format_double(x) is None


def test_csv_sample_rows_writes_prefix_time_and_sample():
    rows = _text.csv_sample_rows(
        b"D/W,", np.array([T0 + 0.25, T0 + 0.5]), np.array([-3, 40000], np.int32)
    )
    assert bytes(rows) == b"D/W,1700000000.25,-3\nD/W,1700000000.5,40000\n"
    assert _text.csv_sample_rows(b"D/W,", np.array([1e12]), np.array([1], np.int8)) is None
    cells = _text.csv_cell_rows(
        b"D/W,", np.array([T0 + 1.5, T0 + 2.5]), np.array([1, 2, 3], np.uint16), np.array([0, 0, 3])
    )
    assert bytes(cells) == b'D/W,1700000001.5,"[]"\nD/W,1700000002.5,"[1,2,3]"\n'


def _csv_recording(fmt):
    rng = np.random.default_rng(11)
    b = VitalBuilder().header(dtstart=T0, dtend=T0 + 30)
    b.device(1, "Mon", "Mon")
    b.track(1, WAVE, fmt, "W", srate=300, gain=0.1, did=1)
    b.track(2, WAVE, fmt, "W0", srate=0, did=1)
    b.track(3, NUM, F32, "HR", did=1)
    for s in range(30):
        n = 300 if s % 7 else 1
        lo = 0 if fmt in (4, 6, 8) else -120  # unsigned formats
        values = (
            rng.integers(lo, 120, n).tolist()
            if fmt != F32
            else rng.normal(0, 1, n).astype(np.float32).tolist()
        )
        b.wave(1, T0 + s + 1 / 3, values)
        b.wave(2, T0 + s, values[:5])
        b.number(3, T0 + s, 60 + s * 0.1)
    return vitalproc.read(io.BytesIO(gzip_bytes(b.bytes())))


@pytest.mark.parametrize("fmt", [3, I16, 6, 7, F32])  # int8, int16, uint16, int32, float
@pytest.mark.parametrize("wave_cells", [False, True])
def test_csv_fast_rows_are_arrow_s_bytes(monkeypatch, fmt, wave_cells):
    vf = _csv_recording(fmt)
    fast = io.BytesIO()
    vitalproc.export(vf, fast, "csv", wave_cells=wave_cells)
    monkeypatch.setattr(csv_writer, "_wave_rows", lambda *args: None)
    slow = io.BytesIO()
    vitalproc.export(vf, slow, "csv", wave_cells=wave_cells)
    assert fast.getvalue() == slow.getvalue()
    assert fast.getvalue().count(b"\n") > 30


def test_csv_batches_do_not_import_pandas():
    code = (
        "import io, sys, vitalproc;"
        "vf = vitalproc.read(vitalproc.SAMPLE); vitalproc.export(vf, io.BytesIO(), 'csv');"
        "print('pandas' in sys.modules)"
    )
    import subprocess

    with warnings.catch_warnings():
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
    assert out.stdout.strip() == "False"


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-5, 40), st.just(float("nan"))), st.floats(-1e6, 1e6, width=32)
        ),
        max_size=30,
    ),
    st.integers(1, 30),
    st.sampled_from([np.float32, np.float64, np.int32]),
)
def test_object_rows_are_last_record_wins(records, nret, dtype):
    dt = T0 + np.array([r[0] for r in records], np.float64)
    values = np.array([r[1] for r in records]).astype(dtype)
    expected = _put_numpy(nret, dt, values, T0, 1.0)
    out = np.full(nret, np.nan, object)
    _grid.put_record_floats(out, dt, values, T0, 1.0)
    assert [type(v) for v in out] == [float] * nret
    assert np.array_equal(out.astype(np.float32), expected, equal_nan=True)
    texts = [f"t{i}" for i in range(len(records))]
    out = np.full(nret, None, object)
    _grid.put_record_objects(out, dt, texts, T0, 1.0)
    brute = [None] * nret
    for t, text in zip(dt.tolist(), texts):
        if t == t:
            brute[int(min(max(t - T0, 0.0), nret - 1))] = text
    assert out.tolist() == brute
