"""The compiled cell writes of the object time grid (``_grid.pyx``) against numpy doing
the same stores, and their reference counting (a miscount is a crash later, not now)."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from vitalproc.ops import _grid

# Not the explain phase: it imports libcst, whose import warns (and warnings fail tests).
PHASES = [p for p in Phase if p is not Phase.explain]


def refs(obj) -> int:
    return sys.getrefcount(obj) - 1  # less getrefcount's own argument


def test_object_block_fills_every_cell_and_counts_its_references():
    fill = float("nan")
    before = refs(fill)
    for shape in [(3, 5), (0, 4), (2, 0), (4, (_grid.PARALLEL_CELLS // 4) + 3)]:
        block = _grid.object_block(*shape, fill)
        assert block.shape == shape and block.dtype == object and block.flags.c_contiguous
        assert refs(fill) == before + block.size
        if block.size:
            assert block.flat[0] is fill and block.flat[-1] is fill
            assert all(x is fill for x in block[:, ::997].ravel())
        del block
        assert refs(fill) == before
    with pytest.raises(ValueError):
        _grid.object_block(-1, 2, fill)


def put_reference(n, start, rows, values, held):
    """numpy's ``out[rows] = values`` on a NaN object row, rows with held < 0 skipped."""
    out = np.full(n, np.nan, object)
    keep = np.ones(len(values), bool) if held is None else held >= 0
    where = (np.arange(len(values)) + start) if rows is None else rows
    out[where[keep]] = values[keep]
    return out


def same_cells(ref, ours):
    assert [type(x) for x in ref] == [type(x) for x in ours]
    assert np.asarray(ref, np.float64).tobytes() == np.asarray(ours, np.float64).tobytes()


@settings(max_examples=300, deadline=None, phases=PHASES)
@given(st.data())
def test_put_floats_stores_what_numpy_stores(data):
    n = data.draw(st.integers(1, 60))
    count = data.draw(st.integers(0, n))
    # float32 bit patterns: repeats (the cache), NaNs with payloads, infinities, -0.0
    bits = data.draw(
        st.lists(
            st.one_of(
                st.integers(0, 2**32 - 1),
                st.sampled_from([0, 0x80000000, 0x7F800000, 0x7FC00001, 0xFF800001, 0x3F800000]),
            ),
            min_size=count,
            max_size=count,
        )
    )
    values = np.array(bits, np.uint32).view(np.float32)
    dense = data.draw(st.booleans())
    if dense:
        start, rows = data.draw(st.integers(0, n - count)), None
    else:  # numerics: unique rows in any order (last-wins happened before)
        start = 0
        rows = np.array(data.draw(st.permutations(range(n)))[:count], np.int64)
    held = None
    if data.draw(st.booleans()):
        held = np.array(
            data.draw(st.lists(st.integers(-1, 5), min_size=count, max_size=count)), np.int64
        )
    keys = None
    if data.draw(st.booleans()) and count:
        # equal keys must mean equal values: key each distinct pattern
        _, keys = np.unique(values.view(np.uint32), return_inverse=True)
        keys = keys.astype(np.uint16)
    out = _grid.object_block(1, n, np.nan)[0]
    _grid.put_floats(out, start, rows, values, held, keys)
    same_cells(put_reference(n, start, rows, values, held), out)


def test_put_floats_shares_equal_values_and_keeps_references_straight():
    nan = np.nan
    before = refs(nan)
    out = _grid.object_block(1, 1000, nan)[0]
    values = np.tile(np.array([1.5, 2.5, 1.5, -3.0], np.float32), 200)
    _grid.put_floats(out, 100, None, values)
    assert out[100] is out[102]  # one float per distinct value
    assert refs(out[100]) == 400 + 2  # its cells, the subscript's result, refs' argument
    assert refs(nan) == before + 200
    _grid.put_floats(out, 0, None, np.zeros(1000, np.float32), keys=np.zeros(1000, np.uint16))
    assert refs(nan) == before and all(x == 0.0 for x in out)
    del out
    gc.collect()
    assert refs(nan) == before


def test_put_floats_refuses_writes_outside_the_row():
    out = _grid.object_block(1, 10, np.nan)[0]
    one = np.ones(3, np.float32)
    with pytest.raises(IndexError):
        _grid.put_floats(out, 8, None, one)
    with pytest.raises(IndexError):
        _grid.put_floats(out, 0, np.array([0, 10, 1]), one)
    with pytest.raises(IndexError):
        _grid.put_floats(out, 0, np.array([0, -1, 1]), one)
    with pytest.raises(ValueError):
        _grid.put_floats(out, 0, np.array([0, 1]), one)
    with pytest.raises(ValueError):
        _grid.put_floats(out, 0, None, one, held=np.zeros(2, np.int64))
    with pytest.raises(ValueError):
        _grid.put_floats(out, 0, None, one, keys=np.zeros(4, np.uint16))
    with pytest.raises(TypeError):
        _grid.put_floats(np.zeros(10), 0, None, one)
    with pytest.raises(TypeError):
        _grid.put_floats(_grid.object_block(10, 2, np.nan)[:, 0], 0, None, one)
    assert all(x is np.nan for x in out)  # nothing stored by a refused call


def find_reference(positions, start, first, count):
    found = np.full(len(positions), -1, np.int64)
    for r in range(len(start)):
        inside = (positions >= start[r]) & (positions < start[r] + count[r])
        found[inside] = first[r] + positions[inside] - start[r]
    return found


@settings(max_examples=300, deadline=None, phases=PHASES)
@given(st.data())
def test_find_samples_is_the_run_holding_each_position(data):
    # disjoint runs in order, some empty, with gaps; positions sorted, with repeats
    lengths = data.draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), max_size=12))
    start, count, at = [], [], data.draw(st.integers(-3, 3))
    for gap, length in lengths:
        at += gap
        start.append(at)
        count.append(length)
        at += length
    start = np.array(start, np.int64)
    count = np.array(count, np.int64)
    first = (np.cumsum(count) - count + data.draw(st.integers(0, 5))).astype(np.int64)
    positions = np.sort(
        np.array(data.draw(st.lists(st.integers(-5, at + 5), max_size=40)), np.int64)
    )
    assert np.array_equal(
        _grid.find_samples(positions, start, first, count),
        find_reference(positions, start, first, count),
    )


def test_find_samples_checks_its_runs():
    with pytest.raises(ValueError):
        _grid.find_samples(
            np.zeros(2, np.int64),
            np.zeros(2, np.int64),
            np.zeros(1, np.int64),
            np.zeros(2, np.int64),
        )


def test_copy_runs_places_each_run_and_refuses_runs_outside():
    src = np.arange(10, dtype=np.float32)
    dst = np.full(12, np.nan, np.float32)
    at, first, count = (np.array(v, np.int64) for v in ([0, 5, 11], [0, 3, 9], [2, 4, 1]))
    _grid.copy_runs(dst, src, at, first, count)
    expect = np.full(12, np.nan, np.float32)
    for a, f, c in zip(at, first, count):
        expect[a : a + c] = src[f : f + c]
    assert expect.tobytes() == dst.tobytes()
    for bad in ([0, 5, 12], [-1, 5, 11]):
        with pytest.raises(IndexError):
            _grid.copy_runs(dst, src, np.array(bad, np.int64), first, count)
    with pytest.raises(IndexError):
        _grid.copy_runs(dst, src, at, np.array([0, 3, 10], np.int64), count)
    with pytest.raises(IndexError):
        _grid.copy_runs(dst, src, at, first, np.array([2, -1, 1], np.int64))
    with pytest.raises(ValueError):
        _grid.copy_runs(dst, src, at[:2], first, count)
