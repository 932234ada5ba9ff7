"""Where each window's input and target lie in a signal's samples.

Window ``k`` starts ``offset[k]`` seconds after the recording's start: ``k * stride`` when
aligned to the start, an event's time plus ``windows.offset`` when aligned to events. In a
signal at ``rate`` Hz its input is samples ``[i, i + L)`` with ``i = round(offset * rate)``,
``L = round(length * rate)``; its target is ``[i + T, i + T + H)`` with
``T = round((length + lead) * rate)``, ``H = round(horizon * rate)``. A window is kept when
its last sample (target's, else input's) lies inside every signal: ``<= n`` samples, or
``< n`` with ``end = "exclusive"``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .recipe import Recipe, Windows


class Layout(NamedTuple):
    """A window's shape in one signal's samples."""

    length: int  # input samples
    target_at: int  # target start, from the input's start
    horizon: int  # target samples (0: no target)

    @property
    def span(self) -> int:
        return self.target_at + self.horizon if self.horizon else self.length


def layout(w: Windows, rate: float) -> Layout:
    return Layout(
        round(w.length * rate), round((w.length + w.lead) * rate), round(w.horizon * rate)
    )


def starts_in(offsets: np.ndarray, rate: float) -> np.ndarray:
    """Each window's first input sample in a signal at ``rate`` Hz."""
    return np.rint(offsets * rate).astype(np.int64)


def window_offsets(
    recipe: Recipe, lengths: dict[str, int], events: np.ndarray | None = None
) -> np.ndarray:
    """Seconds from the recording's start of every window that fits in every signal
    (``lengths``: each signal's sample count); ``events``: event times in seconds from the
    start, for ``align = "events"``."""
    w = recipe.windows
    if w.align == "events":
        offsets = np.sort(np.asarray(events, np.float64)) + w.offset
        offsets = offsets[offsets >= 0]
    else:
        # enough candidates for the longest signal, cut below
        longest = max((lengths[s.name] / s.rate for s in recipe.signals), default=0.0)
        offsets = np.arange(int(longest // w.stride) + 2) * w.stride
    fits = np.ones(len(offsets), bool)
    for sig in recipe.signals:
        lay = layout(w, sig.rate)
        end = starts_in(offsets, sig.rate) + lay.span
        n = lengths[sig.name]
        fits &= end < n if w.end == "exclusive" else end <= n
    return offsets[fits]


def cut(arr: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """``arr[starts[k] : starts[k] + length]`` for every k, as a (windows, length) array:
    a read-only strided view when the starts are evenly spaced, else a copy."""
    k = len(starts)
    if k == 0 or length == 0:
        return np.empty((k, length), arr.dtype)
    step = int(starts[1] - starts[0]) if k > 1 else 0
    if k == 1 or (step >= 0 and np.all(np.diff(starts) == step)):
        base = arr[int(starts[0]) :]
        return np.lib.stride_tricks.as_strided(
            base, (k, length), (step * arr.itemsize, arr.itemsize), writeable=False
        )
    return arr[starts[:, None] + np.arange(length)]
