"""What a lane draws of a wave or numeric track over a time range: a min/max envelope per
pixel column while there are more samples than columns, the samples themselves once
they fit.

Both come from the track's native records (``dt``, ``offsets``, on-disk samples): no
time grid, no resampling. A sample ``i`` of record ``r`` is at ``dt[r] + i / srate``;
numerics are one sample per record at ``dt[r]``. Values are physical (``raw * gain +
offset`` for integer formats, as ``Track.to_numpy(physical=True)``); a format's gap
sentinel and NaN are no samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._constants import FMT_GAP_SENTINEL, TrackType
from ..model._arrays import scale
from . import _envelope

if TYPE_CHECKING:
    from ..model import Track

#: A numeric track's line breaks where two values are further apart than this many
#: times its median interval (a pause in the recording, not one missed value).
NUMERIC_GAP_FACTOR = 10.0
#: A wave's line breaks where two samples are further apart than this many periods.
WAVE_GAP_PERIODS = 2.0
#: Samples per block summary: a column over many blocks costs one step per block.
BLOCK = 64


class Envelope(NamedTuple):
    """Per pixel column ``c`` (covering ``[t0 + c*width, t0 + (c+1)*width)``): the
    smallest and largest physical value (NaN: no sample) and the global sample indices
    where they are (-1: no sample)."""

    t0: float
    width: float
    vmin: np.ndarray
    vmax: np.ndarray
    imin: np.ndarray
    imax: np.ndarray


class Series(NamedTuple):
    """A lane's line: times (Unix seconds), physical values; NaN in both breaks the line.
    ``mode`` is ``"envelope"`` or ``"raw"``; ``sample`` the global sample index of each
    point (-1 at breaks)."""

    x: np.ndarray
    y: np.ndarray
    sample: np.ndarray
    mode: str


class TrackData:
    """A wave or numeric track's columns prepared once for any number of range queries:
    records in time order, the record span bound, the physical transform."""

    def __init__(self, track: Track, block: int = BLOCK):
        if track.type not in (TrackType.WAVE, TrackType.NUMERIC):
            raise ValueError(f"{track.dtname}: a {track.type_name} track has no samples")
        dt = np.asarray(track.dt, np.float64)
        data = track.data
        if track.type == TrackType.WAVE:
            offsets = np.asarray(track.offsets, np.int64)
            self.period = 1.0 / track.srate if track.srate > 0 else 0.0
        else:
            offsets = np.arange(len(dt) + 1, dtype=np.int64)
            self.period = 0.0
        self.is_wave = track.type == TrackType.WAVE and self.period > 0
        if len(dt) > 1 and not np.all(dt[1:] >= dt[:-1]):
            # Out-of-order records (merged files, clock steps): walk them in time order.
            order = np.argsort(dt, kind="stable")
            counts = np.diff(offsets)[order]
            data = (
                np.concatenate([data[offsets[r] : offsets[r + 1]] for r in order])
                if len(order)
                else data
            )
            dt = dt[order]
            offsets = np.zeros(len(dt) + 1, np.int64)
            np.cumsum(counts, out=offsets[1:])
        self.dt, self.offsets, self.data = dt, offsets, data
        self.count = len(dt)
        counts = np.diff(offsets)
        self.span = float(counts.max()) * self.period if len(counts) else 0.0
        self.integer = data.dtype.kind in "iu"
        self.gain = float(track.gain) if self.integer else 1.0
        self.offset = float(track.offset) if self.integer else 0.0
        self.sentinel = FMT_GAP_SENTINEL.get(track.fmt) if self.integer else None
        if self.is_wave:
            self.gap = WAVE_GAP_PERIODS * self.period
        else:
            steps = np.diff(dt)
            steps = steps[steps > 0]
            median = float(np.median(steps)) if len(steps) else 0.0
            self.gap = NUMERIC_GAP_FACTOR * median if median > 0 else 60.0
        self._blocks: tuple | None = None
        self._block = block

    # -- ranges ----------------------------------------------------------------------

    def records(self, t0: float, t1: float) -> tuple[int, int]:
        """The records that may hold a sample in ``[t0, t1)``."""
        r0 = int(np.searchsorted(self.dt, t0 - self.span, "left"))
        r1 = int(np.searchsorted(self.dt, t1, "left"))
        return r0, max(r0, r1)

    def estimate(self, t0: float, t1: float) -> int:
        """About how many samples ``[t0, t1)`` holds (exact for numerics)."""
        if not self.is_wave:
            r0 = int(np.searchsorted(self.dt, t0, "left"))
            return int(np.searchsorted(self.dt, t1, "left")) - r0
        r0, r1 = self.records(t0, t1)
        if r1 <= r0:
            return 0
        return min(int(self.offsets[r1] - self.offsets[r0]), int((t1 - t0) / self.period) + 1)

    # -- values and times of samples -------------------------------------------------

    def physical(self, index: np.ndarray) -> np.ndarray:
        """Physical values of the samples at global indices (NaN for gap sentinels)."""
        raw = self.data[index]
        if not self.integer:
            return raw.astype(np.float64)
        return scale(raw, self.gain, self.offset, self.sentinel)

    def times(self, index: np.ndarray) -> np.ndarray:
        """Unix times of the samples at global indices."""
        rec = np.searchsorted(self.offsets, index, "right") - 1
        return self.dt[rec] + (index - self.offsets[rec]) * self.period

    def summarize(self) -> tuple:
        """Make (once) the min/max of every block of ``BLOCK`` samples and of every
        record: one pass over the samples, after which a wide column costs one step per
        record or block. Without them every query scans its samples."""
        if self._blocks is None:
            block = self._block
            nb = len(self.data) // block
            longest = int(np.diff(self.offsets).max()) if self.count else 0
            if nb < 16 or longest < 8 * block:
                # Short records: their own summaries serve, a column's partial records
                # are scanned.
                blocks = _summary(self.data, np.empty(0, np.int64), None) + (0,)
            else:
                bounds = np.arange(nb + 1, dtype=np.int64) * block
                blocks = _summary(self.data, bounds, self.sentinel) + (block,)
            records = _summary(
                self.data, self.offsets if self.is_wave else np.empty(0, np.int64), self.sentinel
            )
            self._blocks = blocks + records
        return self._blocks

    # -- what a lane draws -----------------------------------------------------------

    def envelope(self, t0: float, t1: float, ncol: int) -> Envelope:
        """The min/max of every one of ``ncol`` equal columns over ``[t0, t1)``."""
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
            raise ValueError(f"empty or invalid time range [{t0}, {t1})")
        if ncol < 1:
            raise ValueError("at least one column")
        width = (t1 - t0) / ncol
        vmin = np.zeros(ncol)
        vmax = np.zeros(ncol)
        imin = np.full(ncol, -1, np.int64)
        imax = np.full(ncol, -1, np.int64)
        r0, r1 = self.records(t0, t1)
        if r1 > r0:
            blocks = self._blocks or _NO_SUMMARIES
            _envelope.walk(
                self.data,
                self.offsets,
                self.dt,
                r0,
                r1,
                self.period,
                t0,
                width,
                ncol,
                self.sentinel,
                *blocks,
                vmin,
                vmax,
                imin,
                imax,
            )
        empty = imin < 0
        lo = np.full(ncol, np.nan)
        hi = np.full(ncol, np.nan)
        if not empty.all():
            full = ~empty
            a = self.physical(imin[full])
            b = self.physical(imax[full])
            # A negative gain turns the raw minimum into the physical maximum.
            lo[full] = np.minimum(a, b)
            hi[full] = np.maximum(a, b)
            if self.gain < 0:
                imin[full], imax[full] = imax[full].copy(), imin[full].copy()
        return Envelope(t0, width, lo, hi, imin, imax)

    def raw(self, t0: float, t1: float) -> Series:
        """Every sample in ``[t0, t1)`` plus its neighbour on each side (so the line runs
        to the lane's edges), breaks at gaps."""
        r0, r1 = self.records(t0, t1)
        # One record more on each side gives the neighbours.
        r0, r1 = max(0, r0 - 1), min(self.count, r1 + 1)
        a, b = int(self.offsets[r0]), int(self.offsets[r1])
        index = np.arange(a, b, dtype=np.int64)
        x = (
            self.times(index)
            if self.period > 0
            else np.repeat(self.dt[r0:r1], np.diff(self.offsets[r0 : r1 + 1]))
        )
        lo = max(0, int(np.searchsorted(x, t0, "left")) - 1)
        hi = min(len(x), int(np.searchsorted(x, t1, "left")) + 1)
        index, x = index[lo:hi], x[lo:hi]
        y = self.physical(index)
        return _with_breaks(x, y, index, self.gap, "raw")

    def series(self, t0: float, t1: float, ncol: int) -> Series:
        """What a lane ``ncol`` pixels wide draws of ``[t0, t1)``: raw samples if there are
        at most two per column, else the envelope, each column's minimum and maximum in
        the order they occurred."""
        if self.estimate(t0, t1) <= 2 * ncol:
            return self.raw(t0, t1)
        env = self.envelope(t0, t1, ncol)
        cols = np.flatnonzero(env.imin >= 0)
        first = np.minimum(env.imin[cols], env.imax[cols])
        second = np.maximum(env.imin[cols], env.imax[cols])
        index = np.empty(2 * len(cols), np.int64)
        index[0::2], index[1::2] = first, second
        x = self.times(index)
        y = self.physical(index)
        # An empty column between two drawn ones is a gap: break the line there.
        col_of_point = np.repeat(cols, 2)
        jumps = np.flatnonzero(np.diff(col_of_point) > 1) + 1
        return _insert_breaks(x, y, index, jumps, "envelope")


_EMPTY_F, _EMPTY_I = np.empty(0, np.float64), np.empty(0, np.int64)
#: ``walk``'s arguments for neither block nor record summaries.
_NO_SUMMARIES = (_EMPTY_F, _EMPTY_F, _EMPTY_I, _EMPTY_I, 0, _EMPTY_F, _EMPTY_F, _EMPTY_I, _EMPTY_I)


def _summary(data: np.ndarray, bounds: np.ndarray, sentinel: float | None) -> tuple:
    n = max(0, len(bounds) - 1)
    out = (np.empty(n), np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64))
    if n:
        _envelope.summarize(data, bounds, sentinel, *out)
    return out


def _with_breaks(x: np.ndarray, y: np.ndarray, index: np.ndarray, gap: float, mode: str) -> Series:
    jumps = np.flatnonzero(np.diff(x) > gap) + 1 if gap > 0 else np.empty(0, np.int64)
    return _insert_breaks(x, y, index, jumps, mode)


def _insert_breaks(
    x: np.ndarray, y: np.ndarray, index: np.ndarray, at: np.ndarray, mode: str
) -> Series:
    if len(at):
        x = np.insert(x, at, np.nan)
        y = np.insert(y, at, np.nan)
        index = np.insert(index, at, -1)
    return Series(x, y, index, mode)
