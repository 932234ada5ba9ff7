"""The pieces: numeric aggregations, decimation, rules, labels, event alignment."""

from __future__ import annotations

import math

import numpy as np
import pytest

import vitalproc
from vitalproc.windows import parse_recipe
from vitalproc.windows.cutter import cut_case
from vitalproc.windows.indexing import cut
from vitalproc.windows.labels import moving_average, runs_at_least, signal_label
from vitalproc.windows.recipe import Label, Rule, Signal
from vitalproc.windows.resample import lowpass, resample
from vitalproc.windows.rules import fails

T0 = 1_700_000_000.0


def _numeric_case(seed=0):
    rng = np.random.default_rng(seed)
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 600
    dt = np.sort(T0 + rng.uniform(0, 600, 400))
    dt[10] = dt[11]  # a tie: the later record in file order is the later one
    values = rng.normal(80, 10, 400).round(1)
    values[20] = np.nan
    order = rng.permutation(400)  # records out of time order in the file
    trk = vf.add_track("Solar8000/ART_MBP", dt=dt[order], values=values[order])
    return vf, trk, dt, values


@pytest.mark.parametrize("method", ["first", "last", "mean", "median", "min", "max"])
def test_numeric_aggregations_are_the_plain_loop(method):
    vf, trk, _, _ = _numeric_case()
    got = resample(vf, trk, Signal("m", ("MBP",), 1 / 30, method, interval=30))
    stored = trk.values.astype(np.float64)
    steps: dict[int, list[float]] = {}
    for t, v in sorted(zip(trk.dt, stored), key=lambda r: r[0]):  # stable: file order ties
        k = int((t - T0) / 30)
        if not np.isnan(v) and 0 <= k < 20:
            steps.setdefault(k, []).append(v)
    pick = {
        "first": lambda x: x[0],
        "last": lambda x: x[-1],
        "mean": np.mean,
        "median": np.median,
        "min": min,
        "max": max,
    }[method]
    expected = np.full(20, np.nan, np.float32)
    for k, vals in steps.items():
        expected[k] = pick(vals)
    assert got.dtype == np.float32 and len(got) == 20
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.array_equal(np.isnan(got), np.isnan(expected))


def test_step_hold_with_a_maximum_gap():
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 10
    trk = vf.add_track("D/HR", dt=T0 + np.array([0.5, 2.0, 7.0]), values=np.array([60.0, 70, 80]))
    got = resample(vf, trk, Signal("hr", ("HR",), 1, "hold", max_gap=3))
    expected = [np.nan, 60, 70, 70, 70, 70, np.nan, 80, 80, 80]
    np.testing.assert_array_equal(got, np.array(expected, np.float32))


def test_a_numeric_on_a_fine_grid_needs_upsample():
    vf, trk, _, _ = _numeric_case()
    from vitalproc.windows.resample import SignalError

    with pytest.raises(SignalError, match="upsample"):
        resample(vf, trk, Signal("m", ("MBP",), 100, "grid"))
    assert len(resample(vf, trk, Signal("m", ("MBP",), 100, "grid", upsample=True))) == 60000


def test_decimation_removes_what_the_new_rate_cannot_hold():
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 20
    t = np.arange(20 * 500) / 500
    slow, fast = np.sin(2 * np.pi * 5 * t), np.sin(2 * np.pi * 160 * t)  # 160 Hz aliases
    wave = (slow + fast).astype(np.float32)
    trk = vf.add_track("D/W", srate=500, dt=T0 + np.arange(20.0), samples=wave.reshape(20, 500))
    dec = resample(vf, trk, Signal("w", ("W",), 100, "decimate"))
    plain = wave[::5]
    inner = slice(50, -50)  # away from the filter's edges
    assert np.abs(dec[inner] - slow[::5][inner]).max() < 0.02
    assert np.abs(plain[inner] - slow[::5][inner]).max() > 0.5  # aliasing without it
    taps = lowpass(5)
    assert taps.dtype == np.float32 and math.isclose(float(taps.sum()), 1, rel_tol=1e-6)
    from vitalproc.windows.resample import SignalError

    with pytest.raises(SignalError, match="does not divide"):
        resample(vf, trk, Signal("w", ("W",), 300, "decimate"))


def test_rules_follow_numpy_comparisons():
    x = np.array(
        [
            [50, 60, np.nan, 55],  # a NaN: no comparison fails on it
            [50, 50, 50, 50],  # flat
            [10, 90, 95, 100],  # below 30, big jump
            [np.nan, np.nan, np.nan, 1],
        ],
        np.float32,
    )
    r = lambda kind, v, **kw: fails(Rule(kind, v, **kw), x, 1.0)
    assert r("nan_fraction", 0.25).tolist() == [False, False, False, True]
    assert r("nan_fraction", 0.2, low=52).tolist() == [True, True, True, True]
    assert r("above", 99).tolist() == [False, False, True, False]
    assert r("below", 30).tolist() == [False, False, True, True]
    assert r("peak_to_peak", 5).tolist() == [False, True, False, False]  # NaN: passes
    assert r("max_jump", 30).tolist() == [False, False, True, False]
    assert r("flatline", 3).tolist() == [False, True, False, False]


def test_labels():
    x = np.array([[70, 60, 60, 70, 60], [60, np.nan, 60, 60, 70]], np.float32)
    event = Label("e", "event", "s", "input", "<", 65, min_duration=2)
    starts = np.array([0, 5])
    flat = x.ravel()
    assert signal_label(event, x, 1.0, flat, starts).tolist() == [True, True]
    assert signal_label(
        Label("e", "event", "s", "input", "<", 65, min_duration=3), x, 1.0, flat, starts
    ).tolist() == [False, False]
    reg = Label("r", "regression", "s", "input", aggregate="median")
    assert signal_label(reg, x, 1.0, flat, starts).tolist() == [60, 60]
    agg = Label("a", "aggregate", "s", "input", "<", 65, aggregate="max", moving_average=2)
    # running means of 2: [65, 60, 65, 65] and [30, 30, 60, 65] (NaN as 0)
    assert signal_label(agg, x, 1.0, flat, starts).tolist() == [False, False]
    assert moving_average(flat, starts, 5, 2).tolist() == [[65, 60, 65, 65], [30, 30, 60, 65]]
    assert runs_at_least(np.array([[True, False, True, True]]), 2).tolist() == [True]
    from vitalproc.windows._running import moving_extreme

    rng = np.random.default_rng(3)
    sig = rng.normal(70, 9, 500).astype(np.float32)
    sig[rng.random(500) < 0.1] = np.nan
    st = np.array([0, 37, 100, 380])
    full = moving_average(sig, st, 120, 7)
    assert np.array_equal(moving_extreme(sig, st, 120, 7, True), np.nanmax(full, axis=1))
    assert np.array_equal(moving_extreme(sig, st, 120, 7, False), np.nanmin(full, axis=1))


def test_cut_views_and_copies():
    a = np.arange(20, dtype=np.float32)
    even = cut(a, np.array([0, 5, 10]), 4)
    assert not even.flags.writeable and np.shares_memory(even, a)
    assert even.tolist() == [[0, 1, 2, 3], [5, 6, 7, 8], [10, 11, 12, 13]]
    odd = cut(a, np.array([0, 3, 10]), 2)
    assert odd.tolist() == [[0, 1], [3, 4], [10, 11]]


def test_windows_aligned_to_events():
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 100
    vf.add_track(
        "D/W",
        srate=10,
        dt=T0 + np.arange(100.0),
        samples=np.tile(np.arange(10, dtype=np.float32), (100, 1)) + np.arange(100)[:, None],
    )
    vf.add_track(
        "EVENT",
        dt=T0 + np.array([2.0, 30.0, 50.0, 99.0]),
        values=np.array(["a", "b", "c", "d"], object),
    )
    recipe = parse_recipe(
        {
            "signals": [{"name": "w", "track": "D/W", "rate": 10}],
            "windows": {"length": 10, "align": "events", "events": "EVENT", "offset": -5},
        }
    )
    cw = cut_case(recipe, vf)
    # 2 s: starts before the recording; 99 s: ends after it
    assert cw.columns["offset"].tolist() == [25.0, 45.0]
    assert cw.arrays["w"][:, 0].tolist() == [25.0, 45.0]


@pytest.mark.parametrize("seed", range(6))
def test_rules_per_block_equal_rules_per_window(seed):
    from vitalproc.windows.rules import BLOCKABLE, block_fails

    rng = np.random.default_rng(seed)
    g = int(rng.integers(1, 6))
    step, length = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 5))
    count, first = int(rng.integers(2, 30)), int(rng.integers(0, 7))
    x = rng.normal(50, 20, first + (count - 1) * step + length + 5).astype(np.float32)
    x[rng.random(len(x)) < 0.05] = np.nan
    x[rng.random(len(x)) < 0.03] = 120  # jumps, some across block boundaries
    starts = first + np.arange(count) * step
    windows = cut(x, starts, length)
    for kind, kw in [
        ("nan_fraction", {}),
        ("nan_fraction", {"low": 20, "high": 90}),
        ("above", {}),
        ("below", {}),
        ("peak_to_peak", {}),
        ("max_jump", {}),
    ]:
        assert kind in BLOCKABLE
        for value in (0.1, 30.0, 60.0):
            rule = Rule(kind, value, **kw)
            assert np.array_equal(
                block_fails(rule, x, first, count, step, length, g), fails(rule, windows, 1.0)
            ), (kind, value, g, step, length)
