"""The compiled paths of small calls, each against the Python or numpy rule it replaces:
a track declaration read in one call, numpy's linspace decimation, a wave's records
valued onto a float32 grid row, and an object grid's numeric and string rows."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalproc.io import reader
from vitalproc.io._parse import track_info
from vitalproc.model import Track
from vitalproc.ops import _grid, views

T0 = 1_700_000_000.0


def _declaration(name: bytes, unit: bytes, tail: int) -> bytes:
    head = struct.pack("<HBB", 7, 1, 5) + struct.pack("<I", len(name)) + name
    head += struct.pack("<I", len(unit)) + unit
    fields = struct.pack("<ffIfddBI", -1.5, 2.5, 0xFF00FF, 500.0, 0.25, -3.0, 2, 9)
    fields += struct.pack("<I", 1234) + struct.pack("<dd", T0, T0 + 60)
    return head + fields[:tail]


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=12),
    st.binary(max_size=6),
    st.integers(0, 57),
    st.integers(-4, 80),
    st.integers(0, 100),
)
def test_track_info_is_the_field_by_field_reading(name, unit, tail, extra, cut):
    """Every layout (fields absent, cut off, declared longer than held): the compiled
    reading gives the Python reading's fields, or None where that one is needed."""
    body = _declaration(name, unit, tail)
    body = body[: max(0, len(body) - cut % 8)] if cut > 50 else body
    plen = len(body) + extra
    fast = track_info(body, plen)
    try:
        slow = reader._track_fields(body, plen)
    except struct.error:
        assert fast is None
        return
    if fast is not None:
        assert fast == slow
        assert [type(v) for v in fast] == [type(v) for v in slow]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 5000))
def test_linspace_picks_is_numpys(nsamp, nrows):
    expected = np.linspace(0, nsamp - 1, nrows).astype(np.int64)
    assert np.array_equal(_grid.linspace_picks(nsamp, nrows), expected)


_DTYPES = ["<i1", "<u1", "<i2", "<u2", "<i4", "<u4", "<f4", "<f8"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-5, 60), st.integers(0, 12)), max_size=10),
    st.sampled_from(_DTYPES),
    st.integers(3, 8),
    st.booleans(),
    st.booleans(),
    st.integers(1, 70),
)
def test_put_wave_is_the_numpy_lookup(records, dtype, fmt, nan_gaps, resample, nrows):
    """Records in any order and overlap, any sample dtype, gain/offset and gap filler:
    the one compiled pass gives numpy's lookup and values bit for bit."""
    rng = np.random.default_rng(len(records) * 31 + nrows)
    counts = [c for _, c in records]
    info = np.iinfo(dtype) if dtype[1] in "iu" else None
    size = sum(counts)
    if info is not None:
        data = rng.integers(info.min, info.max, size, endpoint=True).astype(dtype)
    else:
        data = (rng.standard_normal(size) * 1e3).astype(dtype)
        if size:
            data[0] = np.inf
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    dt = T0 + np.array([s for s, _ in records], np.float64) / 10
    trk = Track("W", 1, fmt=fmt, srate=10.0, gain=0.37, offset=-1.5)
    trk.dt, trk.data, trk.offsets = dt, data, offsets
    grid = views._Grid(T0, T0 + 6, 1.0 if resample else 0.1, 6 if resample else 60, nan_gaps)
    nsamp = 60
    col = views._Column("W", trk, "wave", nrows, nsamp, True)
    fast = np.full(nrows, np.nan, np.float32)
    views._fill_quietly(col, grid, fast)
    slow = np.full(nrows, np.nan, np.float32)
    q = grid.picks(nsamp, nrows)
    with np.errstate(over="ignore", invalid="ignore"):
        rows, pick = views._wave_lookup(trk, grid, nsamp, q)
        if isinstance(pick, views._Runs):
            pick = pick.samples(rows.stop - rows.start)
        values = views._wave_values(trk, data[pick], nan_gaps)
    if isinstance(pick, np.ndarray) and len(pick):
        values[pick < 0] = np.nan
    slow[rows] = values
    assert fast.tobytes() == slow.tobytes()


def test_object_rows_are_the_per_track_writes():
    """Numeric values and texts (bad UTF-8 dropped) onto an object block in one call,
    as the per-track writes put them."""
    dt = T0 + np.array([0.5, 2.2, 2.9, np.nan, 40.0])
    values = np.array([1.5, np.nan, 3.25, 4.0, 7.0], np.float32)
    texts = [b"a", b"\xffb\xc3\xa9", b"", b"nan-time", b"last"]
    data = np.frombuffer(b"".join(texts), np.uint8)
    ends = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    block = _grid.object_block(2, 6, np.nan)
    _grid.put_object_rows(block, [0, 1], [dt, dt], [values, data], [None, ends], T0, 1.0)
    floats = _grid.object_block(1, 6, np.nan)[0]
    _grid.put_record_floats(floats, dt, values, T0, 1.0)
    strings = _grid.object_block(1, 6, np.nan)[0]
    decoded = [t.decode("utf-8", "ignore") for t in texts]
    _grid.put_record_objects(strings, dt, decoded, T0, 1.0)
    assert [type(v) for v in block[0]] == [type(v) for v in floats]
    assert np.array_equal(block[0].astype(float), floats.astype(float), equal_nan=True)
    assert block[1].tolist()[:3] == strings.tolist()[:3]
    assert block[1].tolist()[5] == "last" == strings.tolist()[5]
