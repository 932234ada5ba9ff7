"""One recording -> its windows: arrays, labels, validity. No I/O here (``runner.py`` reads
and writes); everything is vectorised over a chunk of windows at a time, so memory stays
bounded by the signals themselves however long the recording.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import VitalFile
from .annotations import Intervals, window_classes
from .indexing import cut, layout, starts_in, window_offsets
from .labels import signal_label
from .recipe import Recipe
from .resample import SignalError, nrows, resample
from .rules import BLOCKABLE, block_fails, fails
from .sources import pick_track

#: Samples of one signal's windows looked at together (bounds the temporaries).
CHUNK_SAMPLES = 1 << 22

#: Reasons a window is invalid besides the recipe's rules.
BAD_QUALITY = "bad_quality"
MIXED = "mixed_classes"
UNANNOTATED = "unannotated"


class CaseError(Exception):
    """Why a case gives no windows (a missing signal, a track of the wrong kind); the
    case is recorded as failed with this message, the run goes on."""


@dataclass
class CaseWindows:
    """A case's windows: ``arrays`` (signal -> (windows, samples) float32), ``columns``
    (``offset``, ``t_start``, labels, ``valid``, ``reason``) and what was read."""

    arrays: dict[str, np.ndarray]
    columns: dict[str, Any]
    tracks: dict[str, str] = field(default_factory=dict)  # signal -> track read
    duration: float = 0.0

    def __len__(self) -> int:
        return len(self.columns["offset"])


def needed_tracks(recipe: Recipe) -> list[str]:
    """Every name a recipe may read (signals' fallbacks, the events' track)."""
    names = [t for s in recipe.signals for t in s.tracks]
    w = recipe.windows
    if w.align == "events" and w.events != "annotations":
        names.append(w.events)
    return list(dict.fromkeys(names))


def cut_case(recipe: Recipe, vf: VitalFile, annotations: Intervals | None = None) -> CaseWindows:
    """Resample the recipe's signals from ``vf`` and cut, label and check every window.

    Raises
    ------
    CaseError
        A signal none of whose tracks the recording has, or one its track cannot make.
    """
    signals: dict[str, np.ndarray] = {}
    tracks: dict[str, str] = {}
    for sig in recipe.signals:
        trk = pick_track(vf, sig.tracks)
        if trk is None:
            raise CaseError(
                f"no track for signal {sig.name!r} (looked for {', '.join(sig.tracks)})"
            )
        try:
            signals[sig.name] = resample(vf, trk, sig)
        except SignalError as exc:
            raise CaseError(f"signal {sig.name!r}: {exc}") from None
        tracks[sig.name] = trk.dtname
    events = _events(recipe, vf, annotations)
    lengths = {s.name: len(signals[s.name]) for s in recipe.signals}
    offsets = window_offsets(recipe, lengths, events)
    k = len(offsets)
    w = recipe.windows
    columns: dict[str, Any] = {"offset": offsets, "t_start": vf.dtstart + offsets}
    reason = np.full(k, None, object)
    labels: dict[str, Any] = {lb.name: None for lb in recipe.labels}
    starts = {s.name: starts_in(offsets, s.rate) for s in recipe.signals}
    span = max((layout(w, s.rate).span for s in recipe.signals), default=1)
    step = max(1, CHUNK_SAMPLES // max(span, 1))
    _check(recipe, signals, starts, reason, step)
    for a in range(0, k, step):
        b = min(k, a + step)
        parts, first = {}, {}
        for s in recipe.signals:
            lay = layout(w, s.rate)
            st = starts[s.name][a:b]
            parts[s.name, "input"] = cut(signals[s.name], st, lay.length)
            first[s.name, "input"] = st
            if lay.horizon:
                parts[s.name, "target"] = cut(signals[s.name], st + lay.target_at, lay.horizon)
                first[s.name, "target"] = st + lay.target_at
        for lb in recipe.labels:
            if lb.kind == "annotation":
                continue
            value = signal_label(
                lb,
                parts[lb.signal, lb.over],
                recipe.signal(lb.signal).rate,
                signals[lb.signal],
                first[lb.signal, lb.over],
            )
            if labels[lb.name] is None:
                labels[lb.name] = np.empty(k, value.dtype)
            labels[lb.name][a:b] = value
    for lb in recipe.labels:
        if lb.kind == "annotation":
            labels[lb.name] = _annotation_label(recipe, lb, annotations, offsets, reason)
        elif labels[lb.name] is None:  # no window: an empty column of the right type
            labels[lb.name] = np.empty(0, np.float32 if lb.kind == "regression" else bool)
    columns.update(labels)
    columns["valid"] = np.array([r is None for r in reason], bool)
    columns["reason"] = reason
    arrays = {
        s.name: cut(signals[s.name], starts[s.name], layout(w, s.rate).length)
        for s in recipe.signals
    }
    return CaseWindows(arrays, columns, tracks, vf.dtend - vf.dtstart)


def _check(
    recipe: Recipe,
    signals: dict[str, np.ndarray],
    starts: dict[str, np.ndarray],
    reason: np.ndarray,
    chunk: int,
) -> None:
    """Fill ``reason`` with the first rule each window fails: rule by rule, and within a
    rule signal by signal, part by part (input, then target)."""
    w = recipe.windows
    todo = np.ones(len(reason), bool)
    for rule in recipe.rules:
        for name in rule.signals or [s.name for s in recipe.signals]:
            sig = recipe.signal(name)
            lay = layout(w, sig.rate)
            for part in rule.on or ("input", "target"):
                if (part == "target" and not lay.horizon) or not todo.any():
                    continue
                first = starts[name] + (lay.target_at if part == "target" else 0)
                width = lay.horizon if part == "target" else lay.length
                hit = _fails(rule, signals[name], first, width, sig.rate, chunk) & todo
                reason[hit] = rule.label
                todo &= ~hit


#: The smallest block worth computing a rule per block rather than per window.
MIN_BLOCK = 16


def _fails(
    rule: Any, signal: np.ndarray, first: np.ndarray, width: int, rate: float, chunk: int
) -> np.ndarray:
    """Whether each window ``signal[first[k] : first[k] + width]`` breaks ``rule``: per
    block of the signal when the windows are evenly spaced on a common block, else
    window by window, a chunk at a time."""
    k = len(first)
    if k > 1 and rule.rule in BLOCKABLE:
        step = int(first[1] - first[0])
        g = math.gcd(step, width)
        if step > 0 and g >= MIN_BLOCK and np.all(np.diff(first) == step):
            return block_fails(rule, signal, int(first[0]), k, step, width, g)
    out = np.empty(k, bool)
    for a in range(0, k, chunk):
        out[a : a + chunk] = fails(rule, cut(signal, first[a : a + chunk], width), rate)
    return out


def _events(recipe: Recipe, vf: VitalFile, annotations: Intervals | None) -> np.ndarray | None:
    w = recipe.windows
    if w.align != "events":
        return None
    if w.events == "annotations":
        return np.asarray(annotations.start if annotations is not None else [], np.float64)
    trk = pick_track(vf, [w.events or ""])
    if trk is None:
        raise CaseError(f"no event track {w.events!r}")
    return np.unique(trk.dt) - vf.dtstart


def _annotation_label(
    recipe: Recipe, lb: Any, annotations: Intervals | None, offsets: np.ndarray, reason: np.ndarray
) -> np.ndarray:
    """Each window's class; a window touching a bad-quality class, covered less than the
    purity asks by its class, or not annotated at all, is invalid."""
    out = np.full(len(offsets), None, object)
    if not len(offsets):
        return out
    spec = recipe.annotations
    assert spec is not None  # the recipe's parser requires it for an annotation label
    w = recipe.windows
    start = offsets + (w.length + w.lead if lb.over == "target" else 0)
    length = w.horizon if lb.over == "target" else w.length
    if annotations is None:
        annotations = Intervals(np.empty(0), np.empty(0), [])
    classes, share, bad = window_classes(annotations, start, length, spec.bad)
    out[:] = classes
    for i in range(len(offsets)):
        if reason[i] is not None:
            continue
        if bad[i]:
            reason[i] = BAD_QUALITY
        elif classes[i] is None:
            reason[i] = UNANNOTATED
        elif share[i] < lb.purity - 1e-9:
            reason[i] = MIXED
    return out


def too_short(recipe: Recipe, vf: VitalFile) -> str | None:
    """Why a recording fits no window when aligned to its start, or None."""
    w = recipe.windows
    need = w.length + w.lead + w.horizon
    have = max((nrows(vf, s.step) * s.step for s in recipe.signals), default=0.0)
    if w.align == "start" and have < need:
        return (
            f"recording of {have:g} s is shorter than one window with its lead and "
            f"horizon ({need:g} s)"
        )
    return None
