"""One track -> one float32 array at a signal's output rate, sample 0 at the recording's
start (``vf.dtstart``, the origin of vitaldb's grid), one sample every ``1/rate`` s.

- ``grid``: vitaldb's rule, through ``VitalFile.to_numpy`` (so bit for bit what
  ``vitaldb.VitalFile(path).to_numpy([track], 1/rate)`` gives).
- ``decimate``: the wave at its own rate, each record's samples from the sample nearest
  its time (``round((dt - dtstart) * srate)``: vitaldb's grid rounds up, so records every
  0.2 s whose times fall a hair past the sample leave a one-sample hole each, which a
  filter would spread), low-pass filtered (a Hamming-windowed sinc at 0.45 x the output
  rate) and every k-th sample kept; the rate must divide the wave's. A NaN (a gap)
  spreads over the filter's length, and stays a gap.
- ``first``, ``last``, ``mean``, ``median``, ``min``, ``max``: the numeric records whose time
  falls in each output step (``int((dt - dtstart) / step)``, as vitaldb places a record);
  an empty step is NaN, NaN values are left out.
- ``hold``: the last value recorded at or before each sample's time, NaN once it is older
  than ``max_gap`` seconds.
"""

from __future__ import annotations

import math

import numpy as np

from .._constants import TrackType
from ..model import Track, VitalFile
from .recipe import Signal

#: Filter taps per unit of the decimation factor on each side of the centre.
TAPS_PER_FACTOR = 10

#: Output samples filtered at a time (bounds the strided product's copy).
DECIMATE_BLOCK = 1 << 16


class SignalError(ValueError):
    """A case's track cannot make the signal (a rate that does not divide, a numeric track
    asked for on a wave grid...): the case's failure reason."""


def nrows(vf: VitalFile, step: float) -> int:
    """The number of samples ``step`` seconds apart over the recording's span (vitaldb's
    grid length, ``ceil((dtend - dtstart) / interval)``)."""
    span = vf.dtend - vf.dtstart
    return max(0, math.ceil(span / step)) if span > 0 else 0


def resample(vf: VitalFile, trk: Track, sig: Signal) -> np.ndarray:
    """The track as the signal's float32 array (see the module's docstring)."""
    if sig.method == "grid":
        if trk.type == TrackType.NUMERIC and sig.rate > 1 and not sig.upsample:
            raise SignalError(
                f"{trk.dtname} is a numeric track: a {sig.rate:g} Hz grid "
                "would upsample it (set upsample = true to allow it)"
            )
        return _grid(vf, trk, sig.step)
    if sig.method == "decimate":
        return _decimate(vf, trk, sig.rate)
    if trk.type != TrackType.NUMERIC:
        raise SignalError(
            f"method {sig.method!r} aggregates numeric records, and "
            f"{trk.dtname} is a {trk.type_name} track"
        )
    return _numeric(vf, trk, sig)


def _grid(vf: VitalFile, trk: Track, interval: float) -> np.ndarray:
    grid = vf.to_numpy([trk.dtname], interval)
    if grid.ndim != 2:  # an empty span
        return np.empty(0, np.float32)
    return np.ascontiguousarray(grid[:, 0], dtype=np.float32)


def _decimate(vf: VitalFile, trk: Track, rate: float) -> np.ndarray:
    if trk.type != TrackType.WAVE or not trk.srate > 0:
        raise SignalError(f"decimation needs a wave track, and {trk.dtname} is not one")
    factor = trk.srate / rate
    k = round(factor)
    if k < 1 or abs(factor - k) > 1e-9:
        raise SignalError(f"{rate:g} Hz does not divide {trk.dtname}'s {trk.srate:g} Hz")
    wave = _native(vf, trk)
    if k == 1:
        return wave
    n_out = nrows(vf, 1 / rate)
    taps = lowpass(k)
    half = len(taps) // 2
    if n_out == 0:
        return np.empty(0, np.float32)
    # zeros beyond both ends: the filter's edge, not data
    padded = np.zeros(max((n_out - 1) * k + len(taps), half + len(wave)), np.float32)
    padded[half : half + len(wave)] = wave
    out = np.empty(n_out, np.float32)
    # out[j] = sum_m taps[m] * wave[j*k + m - half]: a strided view of k-apart windows
    # times the taps, a block of outputs at a time.
    view = np.lib.stride_tricks.sliding_window_view(padded, len(taps))[::k]
    for a in range(0, n_out, DECIMATE_BLOCK):
        b = min(n_out, a + DECIMATE_BLOCK)
        out[a:b] = view[a:b] @ taps
    return out


#: Samples of a wave made physical at a time (bounds the float32 temporaries).
NATIVE_BLOCK = 1 << 21


def _native(vf: VitalFile, trk: Track) -> np.ndarray:
    """The wave at its own rate over the recording's span, float32 physical values as
    vitaldb's grid gives them, each record from the sample nearest its time; a later
    record (in file order) overwrites an earlier one it overlaps."""
    from ..ops.views import _wave_values  # the grid's own rule for sample values

    n = nrows(vf, 1 / trk.srate)
    out = np.full(n, np.nan, np.float32)
    ends = trk.offsets
    first = np.rint((trk.dt - vf.dtstart) * trk.srate).astype(np.int64)
    raw = trk.data
    a = 0
    while a < len(first):
        b = int(np.searchsorted(ends, ends[a] + NATIVE_BLOCK, side="right")) - 1
        b = min(max(b, a + 1), len(first))
        lo, hi = int(ends[a]), int(ends[b])
        counts = np.diff(ends[a : b + 1])
        pos = np.repeat(first[a:b] - ends[a:b], counts) + np.arange(lo, hi)
        vals = _wave_values(trk, raw[lo:hi], vf.compat != "vitaldb")
        keep = (pos >= 0) & (pos < n)
        out[pos[keep]] = vals[keep]
        a = b
    return out


def lowpass(k: int) -> np.ndarray:
    """float32 taps of a Hamming-windowed sinc passing below 0.45/k of the input rate
    (0.9 of the output's Nyquist frequency), unit gain at 0 Hz."""
    m = np.arange(-TAPS_PER_FACTOR * k, TAPS_PER_FACTOR * k + 1)
    cutoff = 0.45 / k
    h = 2 * cutoff * np.sinc(2 * cutoff * m) * np.hamming(len(m))
    return (h / h.sum()).astype(np.float32)


def _numeric(vf: VitalFile, trk: Track, sig: Signal) -> np.ndarray:
    n = nrows(vf, sig.step)
    out = np.full(n, np.nan, np.float32)
    dt = trk.dt
    values = np.asarray(trk.values, dtype=np.float64)
    keep = ~np.isnan(values) & ~np.isnan(dt)
    order = np.argsort(dt[keep], kind="stable")
    dt, values = dt[keep][order], values[keep][order]
    if sig.method == "hold":
        times = vf.dtstart + np.arange(n) * sig.step
        last = np.searchsorted(dt, times, side="right") - 1
        held = last >= 0
        if sig.max_gap is not None:
            held &= times - dt[np.maximum(last, 0)] <= sig.max_gap
        out[held] = values[last[held]]
        return out
    rows = ((dt - vf.dtstart) / sig.step).astype(np.int64)
    inside = (rows >= 0) & (rows < n)
    rows, values = rows[inside], values[inside]
    if not len(rows):
        return out
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    where = rows[starts]
    if sig.method == "first":
        out[where] = values[starts]
    elif sig.method == "last":
        out[where] = values[np.r_[starts[1:], len(rows)] - 1]
    elif sig.method == "mean":
        counts = np.diff(np.r_[starts, len(rows)])
        out[where] = np.add.reduceat(values, starts) / counts
    elif sig.method == "min":
        out[where] = np.minimum.reduceat(values, starts)
    elif sig.method == "max":
        out[where] = np.maximum.reduceat(values, starts)
    else:  # median: values sorted within each step, then the middle one(s)
        by_step = np.lexsort((values, rows))
        v = values[by_step]
        counts = np.diff(np.r_[starts, len(rows)])
        lo = starts + (counts - 1) // 2
        hi = starts + counts // 2
        out[where] = (v[lo] + v[hi]) / 2
    return out
