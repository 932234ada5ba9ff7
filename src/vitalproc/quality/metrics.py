"""Quality metrics of one track, from its native records (``docs/quality.md`` defines
each): the arguments of the compiled pass (``_pass.track_pass``) prepared from the track
and the limits table, and its counts turned into the metrics table's columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .._constants import FMT_GAP_SENTINEL, TrackType
from .limits import PLETH_KIND, Limit, Limits

if TYPE_CHECKING:
    from ..model import Track

NAN = math.nan


@dataclass(frozen=True)
class Thresholds:
    """The thresholds that are not per signal kind (``docs/quality.md``).

    ``gap_s``: a hole in the records longer than this is a counted gap; ``clip_s``: a run
    at the track's minimum or maximum this long is clipping; ``flat_s``: a run of
    identical values this long is a flatline, for kinds whose row leaves it blank.
    """

    gap_s: float = 5.0
    clip_s: float = 0.02
    flat_s: float = 5.0

    def __post_init__(self) -> None:
        from .errors import QualityInputError

        for name in ("gap_s", "clip_s", "flat_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise QualityInputError(f"{name} must be a number above 0, not {value!r}")


class Event(NamedTuple):
    """Where a fault was found: ``kind`` (``gap``, ``flatline``, ``clipping``,
    ``spike``), ``start`` and ``end`` (Unix seconds)."""

    kind: str
    start: float
    end: float


DEFAULT_THRESHOLDS = Thresholds()

#: The metric columns, in table order (``coverage_<window>`` columns follow ``coverage``).
METRICS = (
    "kind",
    "type",
    "srate",
    "cadence_s",
    "records",
    "samples",
    "expected",
    "start",
    "end",
    "span_s",
    "coverage",
    "longest_run_s",
    "max_gap_s",
    "gaps",
    "in_range",
    "flatline",
    "clipping",
    "spikes",
    "inverted",
    "polarity",
    "duplicates",
    "out_of_order",
    "bad_times",
    "min",
    "max",
)


def measured(trk: Track) -> bool:
    """Whether a track gets metrics: waves and numerics (not string tracks)."""
    return trk.type in (TrackType.WAVE, TrackType.NUMERIC)


def _order(dt: Any) -> Any:
    """Record indices in time order (finite times only), or None when ``dt`` is all
    finite and already in order."""
    import numpy as np

    finite = np.isfinite(dt)
    if finite.all() and (len(dt) < 2 or bool((dt[1:] >= dt[:-1]).all())):
        return None
    index = np.flatnonzero(finite)
    return index[np.argsort(dt[index], kind="stable")].astype(np.int64)


def cadence(trk: Track, order: Any = None) -> float:
    """The native cadence in seconds: ``1/srate`` for a wave; for a numeric track the
    median of the positive intervals between consecutive record times (NaN with fewer
    than two distinct times)."""
    import numpy as np

    if trk.type == TrackType.WAVE:
        return 1.0 / trk.srate if trk.srate > 0 else NAN
    dt = trk.dt
    times = dt if order is None else dt[order]
    if order is None:
        times = times[np.isfinite(times)]
    steps = np.diff(times)
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else NAN


def track_metrics(
    trk: Track,
    limits: Limits,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    windows: Mapping[str, tuple[float, float]] | None = None,
    events: list[Event] | None = None,
) -> dict[str, Any]:
    """Every metric of one wave or numeric track, in one compiled pass.

    Parameters
    ----------
    trk
        The track (records as read: any order, any times).
    limits
        The limits table (``load_limits()``): the track's kind gives its range,
        flatline duration, spike threshold and whether it gets a polarity.
    thresholds
        Gap, clipping and default flatline thresholds.
    windows
        Name -> ``(start, end)`` in Unix seconds: each adds ``coverage_<name>``.
    events
        A list to receive an ``Event`` for every gap, flatline, clipping run and spike.

    Returns
    -------
    dict
        The columns of ``METRICS`` plus ``coverage_<name>`` per window.
    """
    import numpy as np

    from ._pass import track_pass

    windows = dict(windows or {})
    limit: Limit | None = limits.kind_of(trk.name)
    wave = trk.type == TrackType.WAVE
    dt = np.ascontiguousarray(trk.dt, np.float64)
    data = np.ascontiguousarray(trk.data)
    offsets = np.ascontiguousarray(trk.offsets, np.int64) if wave else None
    order = _order(dt)
    h = cadence(trk, order)
    scaled = trk.fmt in FMT_GAP_SENTINEL and data.dtype.kind in "iu"
    has_sentinel = scaled and wave
    lo, hi = (limit.min, limit.max) if limit is not None else (-math.inf, math.inf)
    flat_s = limit.flat_s if limit is not None and limit.flat_s else thresholds.flat_s
    spike = limit.spike if limit is not None and limit.spike else NAN
    polarity = wave and limit is not None and limit.kind == PLETH_KIND
    first = order[0] if order is not None and len(order) else 0
    base = float(dt[first]) if len(dt) and (order is None or len(order)) else 0.0
    spans = np.array([list(v) for v in windows.values()], np.float64).reshape(-1, 2) - base
    found: list | None = [] if events is not None else None
    out = track_pass(
        dt,
        data,
        offsets,
        order,
        base,
        wave,
        h,
        scaled,
        float(trk.gain),
        float(trk.offset),
        has_sentinel,
        float(FMT_GAP_SENTINEL.get(trk.fmt, NAN)) if has_sentinel else NAN,
        lo,
        hi,
        float(flat_s),
        float(thresholds.clip_s),
        spike,
        polarity,
        float(thresholds.gap_s),
        spans,
        found,
    )
    if events is not None and found is not None:
        events.extend(
            Event(kind, a + base, b + base)
            for kind, a, b in sorted(found, key=lambda e: (e[1], e[0]))
        )
    return _columns(trk, limit, h, out, base, windows, polarity, spike)


def _fraction(part: float, whole: float) -> float:
    return part / whole if whole else NAN


def _columns(
    trk: Track,
    limit: Limit | None,
    h: float,
    out: dict[str, Any],
    base: float,
    windows: dict[str, tuple[float, float]],
    polarity: bool,
    spike: float,
) -> dict[str, Any]:
    records = out["records"]
    start = out["start"] + base if records else NAN
    end = out["end"] + base if records else NAN
    span = out["end"] - out["start"] if records else 0.0
    valid = out["valid"]
    steps = out["rises"] + out["falls"]
    score = (out["rises"] - out["falls"]) / steps if polarity and steps >= 3 else NAN
    row: dict[str, Any] = {
        "kind": limit.kind if limit is not None else None,
        "type": "wav" if trk.type == TrackType.WAVE else "num",
        "srate": float(trk.srate) if trk.type == TrackType.WAVE else None,
        "cadence_s": h,
        "records": records,
        "samples": valid,
        "expected": span / h if h > 0 else NAN,
        "start": start,
        "end": end,
        "span_s": span,
        "coverage": out["covered"] / span if span > 0 else 0.0,
    }
    for (name, (a, b)), covered in zip(windows.items(), out["windows"]):
        row[f"coverage_{name}"] = covered / (b - a) if b > a else NAN
    max_hole = out["max_hole"]
    row.update(
        {
            "longest_run_s": out["longest_run"],
            "max_gap_s": 0.0 if math.isnan(max_hole) else max(0.0, max_hole),
            "gaps": out["gaps"],
            "in_range": (
                _fraction(out["in_range"], valid) if limit is not None and limit.has_range else NAN
            ),
            "flatline": _fraction(out["flat"], valid),
            "clipping": _fraction(out["clipped"], valid),
            "spikes": None if math.isnan(spike) else out["spikes"],
            "inverted": bool(score > 0) if not math.isnan(score) else None,
            "polarity": score,
            "duplicates": out["duplicates"],
            "out_of_order": out["out_of_order"],
            "bad_times": out["bad_times"],
            "min": out["min"] if valid else NAN,
            "max": out["max"] if valid else NAN,
        }
    )
    return row


def find_events(
    trk: Track, limits: Limits | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Event]:
    """Where a track's gaps, flatlines, clipping runs and spikes are.

    Parameters
    ----------
    trk
        A wave or numeric track.
    limits
        The limits table; None: the packaged one.
    thresholds
        As in ``track_metrics``.

    Returns
    -------
    list of Event
        In time order.
    """
    from .limits import load_limits

    found: list[Event] = []
    track_metrics(trk, limits if limits is not None else load_limits(), thresholds, events=found)
    return found
