"""Validity rules over a chunk of windows: each returns, per window, whether it fails.

Comparisons follow numpy, so a NaN sample fails no comparison (``above``, ``below``,
``max_jump``), and max - min of a window holding a NaN is NaN, which is not below any
minimum: ``peak_to_peak`` passes it. Missing data is ``nan_fraction``'s to judge.

- ``nan_fraction``: the share of NaN samples (with ``low``/``high``: or outside them) is
  above ``value``.
- ``above`` / ``below``: some sample is above / below ``value``.
- ``peak_to_peak``: max - min is below ``value``.
- ``max_jump``: some absolute difference between neighbours is above ``value``.
- ``flatline``: some ``value`` seconds of samples are all equal (NaN never equals).
"""
from __future__ import annotations

import math

import numpy as np

from .labels import runs_at_least
from .recipe import Rule


def fails(rule: Rule, x: np.ndarray, rate: float) -> np.ndarray:
    """Per row of ``x`` (windows, samples): True where the window breaks ``rule``."""
    with np.errstate(invalid="ignore", over="ignore"):
        if x.shape[1] == 0:
            return np.zeros(len(x), bool)
        if rule.rule == "nan_fraction":
            bad = np.isnan(x)
            if rule.low is not None:
                bad |= x < rule.low
            if rule.high is not None:
                bad |= x > rule.high
            return bad.mean(axis=1) > rule.value
        if rule.rule == "above":
            return (x > rule.value).any(axis=1)
        if rule.rule == "below":
            return (x < rule.value).any(axis=1)
        if rule.rule == "peak_to_peak":
            return (x.max(axis=1) - x.min(axis=1)) < rule.value
        if rule.rule == "max_jump":
            return (np.abs(np.diff(x, axis=1)) > rule.value).any(axis=1)
        # flatline: n equal samples are n - 1 zero differences in a row
        n = max(2, math.ceil(rule.value * rate - 1e-9))
        return runs_at_least(np.diff(x, axis=1) == 0, n - 1)
