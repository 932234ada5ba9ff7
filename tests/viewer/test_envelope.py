"""The envelope of every pixel column holds exactly the min and max of the samples it
covers: the compiled walk (with its block and record summaries) against the rule applied
sample by sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vitalproc
from vitalproc._constants import FMT_DTYPE, FMT_GAP_SENTINEL
from vitalproc.viewer.envelope import TrackData


def brute(track: vitalproc.Track, t0: float, t1: float, ncol: int):
    """Per column: (min, max) of the physical values of its samples, or None."""
    width = (t1 - t0) / ncol
    phys = track.to_numpy(physical=True).astype(np.float64)
    out: list[list[float]] = [[] for _ in range(ncol)]
    if track.type == 1:
        period = 1.0 / track.srate
        offsets = track.offsets
    else:
        period = 0.0
        offsets = np.arange(len(track.dt) + 1)
    for r, dt in enumerate(track.dt.tolist()):
        for i in range(int(offsets[r]), int(offsets[r + 1])):
            v = phys[i]
            if math.isnan(v):
                continue
            c = math.floor(((dt - t0) + (i - offsets[r]) * period) / width)
            if 0 <= c < ncol:
                out[c].append(v)
    return [(min(v), max(v)) if v else None for v in out]


def wave(
    rng,
    fmt: int,
    srate: float,
    counts: list[int],
    starts: list[float],
    gain: float,
    sentinel_rate: float,
) -> vitalproc.Track:
    dtype = np.dtype(FMT_DTYPE[fmt])
    n = sum(counts)
    if dtype.kind == "f":
        data = rng.normal(0, 50, n).astype(dtype)
        data[rng.random(n) < sentinel_rate] = np.nan
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, int(info.max) + 1, n, dtype=np.int64).astype(dtype)
        data[rng.random(n) < sentinel_rate] = FMT_GAP_SENTINEL[fmt]
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return vitalproc.Track(
        "W",
        type=1,
        fmt=fmt,
        srate=srate,
        gain=gain,
        offset=-3.5,
        dt=np.asarray(starts, np.float64),
        data=data,
        offsets=offsets,
    )


def check(track, t0, t1, ncol, block):
    for summarized in (False, True):
        td = TrackData(track, block=block)
        if summarized:
            td.summarize()
        compare(td, track, t0, t1, ncol)


def compare(td, track, t0, t1, ncol):
    env = td.envelope(t0, t1, ncol)
    expected = brute(track, t0, t1, ncol)
    for c, want in enumerate(expected):
        if want is None:
            assert env.imin[c] == -1 and env.imax[c] == -1, c
            assert np.isnan(env.vmin[c]) and np.isnan(env.vmax[c]), c
        else:
            assert (env.vmin[c], env.vmax[c]) == want, c
            # The indices name samples of that column holding those values.
            phys = td.physical(np.array([env.imin[c], env.imax[c]]))
            assert sorted(phys.tolist()) == sorted(want)


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(sorted(FMT_DTYPE)),
    srate=st.sampled_from([1.0, 62.5, 100.0, 500.0, 128.0]),
    nrec=st.integers(0, 12),
    ncol=st.integers(1, 40),
    gain=st.sampled_from([1.0, 0.25, -2.0]),
    sentinel_rate=st.sampled_from([0.0, 0.05, 0.9]),
    block=st.sampled_from([2, 4, 64]),
    span=st.floats(0.01, 30.0),
    start=st.floats(-5.0, 20.0),
)
def test_envelope_is_the_columns_min_and_max(
    seed, fmt, srate, nrec, ncol, gain, sentinel_rate, block, span, start
):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 400, nrec).tolist()
    # Records abut, leave gaps, overlap, or come out of order.
    starts = np.cumsum(rng.choice([0.0, 0.5, 1.0, 3.0, -0.7], nrec)).tolist()
    rng.shuffle(starts) if rng.random() < 0.2 else None
    track = wave(rng, fmt, srate, counts, starts, gain, sentinel_rate)
    check(track, start, start + span, ncol, block)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    ncol=st.integers(1, 60),
    span=st.floats(1.0, 400.0),
    start=st.floats(-50.0, 200.0),
)
def test_numeric_envelope(seed, n, ncol, span, start):
    rng = np.random.default_rng(seed)
    dt = np.sort(rng.uniform(0, 300, n))
    values = rng.normal(80, 20, n).astype(np.float32)
    values[rng.random(n) < 0.1] = np.nan
    track = vitalproc.Track("HR", type=2, fmt=1, dt=dt, data=values)
    check(track, start, start + span, ncol, 64)


def test_long_records_use_blocks_exactly():
    # One record of 200,000 samples: every wide column goes through block summaries.
    rng = np.random.default_rng(7)
    track = wave(rng, 5, 500.0, [200_000], [10.0], 0.5, 0.001)
    assert TrackData(track).summarize()[4] > 0  # blocks made
    check(track, 9.0, 420.0, 37, 64)


def test_sample_recording_every_track():
    vf = vitalproc.read(vitalproc.SAMPLE)
    for track in vf.trks.values():
        if track.type in (1, 2):
            check(track, vf.dtstart - 1, vf.dtend + 1, 97, 64)


def test_series_raw_once_samples_fit():
    vf = vitalproc.read(vitalproc.SAMPLE)
    track = vf.trks["Intellivue/ECG_II"]
    td = TrackData(track)
    t0 = float(track.dt[10])
    s = td.series(t0, t0 + 2, 1200)
    assert s.mode == "raw"
    ok = s.sample >= 0
    assert np.array_equal(s.y[ok], track.to_numpy(physical=True)[s.sample[ok]])
    inside = (s.x >= t0) & (s.x < t0 + 2)
    assert inside.sum() == 1000  # 2 s of 500 Hz
    wide = td.series(vf.dtstart, vf.dtend, 300)
    assert wide.mode == "envelope"
    ok = wide.sample >= 0
    assert np.array_equal(wide.y[ok], track.to_numpy(physical=True)[wide.sample[ok]])


def test_bad_ranges_are_refused():
    vf = vitalproc.read(vitalproc.SAMPLE)
    td = TrackData(vf.trks["Intellivue/ECG_II"])
    with pytest.raises(ValueError):
        td.envelope(5.0, 5.0, 10)
    with pytest.raises(ValueError):
        td.envelope(0.0, float("nan"), 10)
    with pytest.raises(ValueError):
        td.envelope(0.0, 1.0, 0)
    with pytest.raises(ValueError):
        TrackData(vitalproc.Track("EVENT", type=5))
