"""A recording prepared for drawing: its lanes, its span, and for any time range and
width what each lane shows (a wave or numeric line, string marks). The static plot, the
HTML snapshot and the web viewer's server all ask it the same questions.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .envelope import Series, TrackData
from .lanes import Lane, layout, tz_offset

if TYPE_CHECKING:
    from ..model import VitalFile

#: Seconds from a start given as a number below this; above it a number is Unix time
#: (the command line's rule for --start/--end).
ABSOLUTE_FROM = 1e9
#: At most this many string marks per lane and query: the first ones in time.
MAX_MARKS = 500


class Marks(NamedTuple):
    """A string track's records in a range: times (Unix seconds) and texts."""

    x: np.ndarray
    text: list[str]


def resolve_time(vf: VitalFile, value: Any) -> float:
    """A ``start``/``end`` as Unix seconds: a number below 1e9 counts from the
    recording's start (from its end when negative), a larger one is Unix time; an
    object with ``resolve(vf)`` (the command line's ``TimeSpec``) resolves itself."""
    if hasattr(value, "resolve"):
        return float(value.resolve(vf))
    value = float(value)
    if abs(value) >= ABSOLUTE_FROM:
        return value
    return (vf.dtend if value < 0 else vf.dtstart) + value


class Scene:
    """A recording and its lanes, ready to be drawn over any range."""

    def __init__(
        self,
        vf: VitalFile,
        tracks: Any = None,
        start: Any = None,
        end: Any = None,
        summaries: bool = True,
    ):
        self.vf = vf
        self.lanes: list[Lane] = layout(vf, tracks)
        self.by_key = {lane.key: lane for lane in self.lanes}
        self.tz = tz_offset(vf)
        t0, t1 = self._extent()
        if start is not None:
            t0 = resolve_time(vf, start)
        if end is not None:
            t1 = resolve_time(vf, end)
        if not t1 > t0:
            raise ValueError(f"nothing to draw: the range ends ({t1}) before it starts ({t0})")
        self.t0, self.t1 = t0, t1
        self._data: dict[str, TrackData] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        # Summaries cost one pass over every sample and make each later query cheap:
        # worth it for a viewer, not for one picture.
        self._summaries = summaries

    def _extent(self) -> tuple[float, float]:
        """The recording's span; widened to its records when the header has none."""
        t0, t1 = float(self.vf.dtstart), float(self.vf.dtend)
        if t1 > t0:
            return t0, t1
        starts = [float(t.dt[0]) for t in self.vf.trks.values() if len(t)]
        ends = [float(t.dt[-1]) for t in self.vf.trks.values() if len(t)]
        if starts and max(ends) > min(starts):
            return min(starts), max(ends)
        return t0, t0 + 1.0

    # -- per lane ------------------------------------------------------------------

    def data(self, key: str) -> TrackData:
        """The prepared columns of a wave or numeric lane (made once, thread-safe)."""
        td = self._data.get(key)
        if td is None:
            with self._lock:
                td = self._data.get(key)
                if td is None:
                    td = TrackData(self.vf.trks[key])
                    if self._summaries:
                        td.summarize()
                    self._data[key] = td
        return td

    def series(self, lane: Lane, t0: float, t1: float, px: int) -> Series:
        """What a wave or numeric lane ``px`` columns wide draws of ``[t0, t1)``."""
        return self.data(lane.key).series(t0, t1, px)

    def marks(self, lane: Lane, t0: float, t1: float, limit: int = MAX_MARKS) -> Marks:
        """A string lane's records in ``[t0, t1)`` (at most ``limit``)."""
        track = self.vf.trks[lane.key]
        dt = np.asarray(track.dt, np.float64)
        inside = np.flatnonzero((dt >= t0) & (dt < t1))[:limit]
        texts = track.texts()
        return Marks(dt[inside], [texts[i] for i in inside.tolist()])

    def display_range(self, lane: Lane, series: Series | None = None) -> tuple[float, float]:
        """The values a lane's height spans: the file's display range, else the range
        of the values ``series`` draws (default: the whole case's envelope) without its
        most extreme 0.5 % at each end (an artefact does not flatten the rest). Kept
        once found, so a lane's scale stays put while zooming."""
        if lane.lo is not None and lane.hi is not None:
            return lane.lo, lane.hi
        found = self._ranges.get(lane.key)
        if found is None:
            found = (0.0, 1.0)
            if lane.kind != "string":
                if series is None:
                    series = self.series(lane, *self._extent(), 1000)
                y = series.y[np.isfinite(series.y)]
                if len(y):
                    a, b = float(np.percentile(y, 0.5)), float(np.percentile(y, 99.5))
                    if not b > a:
                        a, b = a - 1.0, b + 1.0
                    found = (a, b)
            self._ranges[lane.key] = found
        return found
