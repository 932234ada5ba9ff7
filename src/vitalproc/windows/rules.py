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
            return _missing(rule, x).mean(axis=1) > rule.value
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


def _missing(rule: Rule, x: np.ndarray) -> np.ndarray:
    """``nan_fraction``'s samples that count as missing: NaN, or outside the rule's
    ``low`` .. ``high`` when it gives them."""
    bad = np.isnan(x)
    if rule.low is not None:
        bad |= x < rule.low
    if rule.high is not None:
        bad |= x > rule.high
    return bad


# ---- the same over blocks ---------------------------------------------------------------
# Windows at a regular stride overlap (a 60 s target every 10 s: each sample is in six).
# When the stride, the window and its position are all multiples of a block of g samples,
# each rule's work is done once per block of the signal and combined over a window's
# blocks: counts add, maxima and minima take the max / min (NaN propagates as in numpy's),
# "some sample" flags or together. The result is the same, each sample is read once.

BLOCKABLE = ("nan_fraction", "above", "below", "peak_to_peak", "max_jump")


def block_fails(
    rule: Rule, signal: np.ndarray, first: int, count: int, step: int, length: int, g: int
) -> np.ndarray:
    """``fails(rule, x)`` for the ``count`` windows ``signal[first + k*step :][:length]``,
    computed per block of ``g`` samples; ``step`` and ``length`` are multiples of ``g``."""
    nb, sb = length // g, step // g
    nblocks = (count - 1) * sb + nb
    x = signal[first : first + nblocks * g].reshape(nblocks, g)
    at = np.arange(count) * sb  # each window's first block

    def any_over(flags: np.ndarray, width: int) -> np.ndarray:
        c = np.zeros(len(flags) + 1, np.int64)
        np.cumsum(flags, out=c[1:])
        return c[at + width] - c[at] > 0

    with np.errstate(invalid="ignore", over="ignore"):
        if rule.rule == "nan_fraction":
            c = np.zeros(nblocks + 1, np.int64)
            np.cumsum(_missing(rule, x).sum(axis=1), out=c[1:])
            return (c[at + nb] - c[at]) / length > rule.value
        if rule.rule == "above":
            return any_over((x > rule.value).any(axis=1), nb)
        if rule.rule == "below":
            return any_over((x < rule.value).any(axis=1), nb)
        if rule.rule == "peak_to_peak":
            hi = np.lib.stride_tricks.sliding_window_view(x.max(axis=1), nb)[at].max(axis=1)
            lo = np.lib.stride_tricks.sliding_window_view(x.min(axis=1), nb)[at].min(axis=1)
            return (hi - lo) < rule.value
        # max_jump: the jumps inside each block, and those across a boundary between two
        # blocks of the same window
        flat = x.reshape(-1)
        jump = np.abs(np.diff(flat)) > rule.value
        inner = np.zeros(nblocks, bool)
        if g > 1:
            inner = np.concatenate([jump, [False]]).reshape(nblocks, g)[:, : g - 1].any(axis=1)
        across = jump[g - 1 :: g]  # block b -> b + 1
        out = any_over(inner, nb)
        if nb > 1:
            out |= any_over(np.concatenate([across, [False] * (nblocks - len(across))]), nb - 1)
        return out
