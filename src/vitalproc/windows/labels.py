"""Label columns from a chunk of windows: each function takes the (windows, samples)
segments of one signal (the input or the target) and returns one value per window.

- ``event``: True when the signal meets ``op threshold`` on at least
  ``ceil(min_duration * rate)`` consecutive samples (a NaN sample breaks a run).
- ``aggregate``: ``aggregate(segment) op threshold``; with ``moving_average`` the aggregate
  runs over the moving average first, computed as the float32 running sum of the segment
  (NaN taken as 0) with a leading 0, differences M apart, divided by M (``M = round(
  moving_average * rate)``; ``samples - M + 1`` values). Aggregates ignore NaN; a NaN
  aggregate compares False.
- ``regression``: the aggregate itself (float32).
- ``annotation``: see ``annotations.py``.
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from .recipe import Label

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

_NAN_AGGREGATES = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}


def aggregate(segments: np.ndarray, how: str) -> np.ndarray:
    """One value per row, NaN ignored (an all-NaN row gives NaN, silently)."""
    if how in ("first", "last"):
        return segments[:, 0 if how == "first" else -1].copy()
    if segments.shape[1] == 0:
        return np.full(len(segments), np.nan, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN is the answer
        return _NAN_AGGREGATES[how](segments, axis=1)


def moving_average(signal: np.ndarray, starts: np.ndarray, length: int, m: int) -> np.ndarray:
    """The float32 running mean over ``m`` samples of ``signal[start : start + length]``
    for each start (see the module), in one compiled pass (``_running.pyx``)."""
    from ._running import moving_average as running

    return running(
        np.ascontiguousarray(signal, np.float32), np.ascontiguousarray(starts, np.int64), length, m
    )


def runs_at_least(cond: np.ndarray, k: int) -> np.ndarray:
    """Per row: some k consecutive entries are all True."""
    if k <= 1:
        return cond.any(axis=1)
    if cond.shape[1] < k:
        return np.zeros(len(cond), bool)
    c = np.zeros((len(cond), cond.shape[1] + 1), np.int32)
    np.cumsum(cond, axis=1, out=c[:, 1:])
    return ((c[:, k:] - c[:, :-k]) == k).any(axis=1)


def signal_label(
    label: Label, segments: np.ndarray, rate: float, signal: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """The label's value for each row of ``segments`` (bool, or float32 for regression);
    ``segments`` are ``signal[starts[k] : starts[k] + width]``."""
    with np.errstate(invalid="ignore", over="ignore"):
        if label.kind == "event":
            cond = COMPARE[label.op](segments, np.float32(label.threshold))
            return runs_at_least(cond, max(1, math.ceil(label.min_duration * rate - 1e-9)))
        if label.kind == "regression":
            return aggregate(segments, label.aggregate).astype(np.float32)
        if label.moving_average:
            m = max(1, round(label.moving_average * rate))
            if label.aggregate in ("max", "min"):  # one compiled pass, no array between
                from ._running import moving_extreme

                value = moving_extreme(
                    np.ascontiguousarray(signal, np.float32),
                    np.ascontiguousarray(starts, np.int64),
                    segments.shape[1],
                    m,
                    label.aggregate == "max",
                )
                return COMPARE[label.op](value, label.threshold)
            segments = moving_average(signal, starts, segments.shape[1], m)
        value = aggregate(segments, label.aggregate)
        return COMPARE[label.op](value, label.threshold)
