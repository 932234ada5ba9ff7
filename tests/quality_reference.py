"""A plain numpy reference of the quality metrics (docs/quality.md), written from the
definitions and independent of the compiled pass: whole-array steps (running maxima
for the time structure and the covered time), numpy's median over sliding windows for
spikes, counts of rising and falling steps for polarity."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

WIDTH, HALF = 7, 3


def reference(trk, limit, thresholds, windows=None):
    """The metrics of ``trk`` as ``track_metrics`` defines them."""
    windows = windows or {}
    wave = trk.type == 1
    dt = np.asarray(trk.dt, np.float64)
    finite = np.isfinite(dt)
    ft = dt[finite]
    order = np.flatnonzero(finite)[np.argsort(ft, kind="stable")]
    base = dt[order[0]] if len(order) else 0.0
    t = dt[order] - base
    if wave:
        h = 1.0 / trk.srate
        counts = np.diff(trk.offsets)[order]
    else:
        steps = np.diff(t)
        steps = steps[steps > 0]
        h = float(np.median(steps)) if len(steps) else math.nan
        counts = np.ones(len(order), np.int64)
    hh = h if math.isfinite(h) else 0.0
    lengths = counts * h if wave else np.full(len(t), hh)
    span_end = float((t + lengths).max()) if len(t) else math.nan
    # samples in visiting order, physical, sentinels as NaN
    phys = trk.to_numpy(physical=True).astype(np.float64)
    if wave:
        pieces = [phys[trk.offsets[i] : trk.offsets[i + 1]] for i in order]
        vals = np.concatenate(pieces) if pieces else np.empty(0)
        rec = np.repeat(np.arange(len(order)), counts)
        within = (
            np.concatenate([np.arange(c) for c in counts]) if len(counts) else np.empty(0, np.int64)
        )
        tau = t[rec] + within * h
    else:
        vals = phys[order]
        rec = np.arange(len(order))
        tau = t.copy()
    valid = ~np.isnan(vals)
    vv, vt, pos = vals[valid], tau[valid], np.flatnonzero(valid)
    # time structure over valid samples, each lasting hh from its time
    ends = vt + hh
    run_end = np.maximum.accumulate(ends) if len(vt) else ends
    holes = vt[1:] - run_end[:-1]
    breaks = holes > hh
    new_seg = np.ones(len(vv), bool)
    new_seg[1:] = (pos[1:] != pos[:-1] + 1) | breaks
    seg = np.cumsum(new_seg)
    # runs of identical values
    new_run = new_seg.copy()
    new_run[1:] |= vv[1:] != vv[:-1]
    starts = np.flatnonzero(new_run)
    stops = np.append(starts[1:], len(vv))[: len(starts)] - 1
    run_n = stops - starts + 1
    dur = (vt[stops] - vt[starts]) + hh
    dur[run_n < 2] = -math.inf  # a value alone is no run
    flat_s = limit.flat_s if limit is not None and limit.flat_s else thresholds.flat_s
    flat = int(run_n[dur >= flat_s].sum())
    if len(vv) and vv.max() > vv.min():
        at_edge = (vv[starts] == vv.min()) | (vv[starts] == vv.max())
        clipped = int(run_n[(dur >= thresholds.clip_s) & at_edge].sum())
    else:
        clipped = 0
    lo, hi = (limit.min, limit.max) if limit is not None else (-math.inf, math.inf)
    n_in = int(((vv >= lo) & (vv <= hi)).sum())
    # spikes
    spike = limit.spike if limit is not None else None
    spikes = None
    if spike:
        spikes = 0
        for s in np.unique(seg):
            x = vv[seg == s]
            if len(x) < WIDTH:
                continue
            med = np.median(sliding_window_view(x, WIDTH), axis=1)
            flagged = np.abs(x[HALF : len(x) - HALF] - med) > spike
            spikes += int(flagged[0]) + int((flagged[1:] & ~flagged[:-1]).sum())
    # polarity: rises against falls of consecutive differences
    score = math.nan
    polarity = wave and limit is not None and limit.kind == "plethysmogram"
    if polarity:
        d = np.diff(vv)[seg[1:] == seg[:-1]]
        rises, falls = int((d > 0).sum()), int((d < 0).sum())
        if rises + falls >= 3:
            score = (rises - falls) / (rises + falls)
    # covered time: each valid sample adds what of [t, t + hh) lies past the coverage
    # so far (the end of the samples before it)
    before = np.concatenate([[-math.inf], run_end[:-1]])
    covered = float(np.maximum(0.0, ends - np.maximum(vt, before)).sum())
    span = span_end - t[0] if len(t) else 0.0

    def window(a, b):
        s_, e_ = np.maximum(vt, a), np.minimum(ends, b)
        inside = e_ > s_
        s_, e_ = s_[inside], e_[inside]
        prev = np.concatenate([[-math.inf], np.maximum.accumulate(e_)[:-1]])
        return float(np.maximum(0.0, e_ - np.maximum(s_, prev)).sum())

    row = {
        "records": len(order),
        "samples": int(valid.sum()),
        "cadence_s": h,
        "start": base if len(t) else math.nan,
        "end": base + span_end if len(t) else math.nan,
        "span_s": span,
        "coverage": covered / span if span > 0 else 0.0,
        "max_gap_s": max(0.0, float(holes.max())) if len(holes) else 0.0,
        "gaps": int((breaks & (holes > thresholds.gap_s)).sum()),
        "in_range": n_in / len(vv)
        if len(vv) and limit is not None and limit.has_range
        else math.nan,
        "flatline": flat / len(vv) if len(vv) else math.nan,
        "clipping": clipped / len(vv) if len(vv) else math.nan,
        "spikes": spikes,
        "polarity": score,
        "inverted": None if math.isnan(score) else bool(score > 0),
        "duplicates": int((t[1:] == t[:-1]).sum()),
        "out_of_order": int((ft[1:] < ft[:-1]).sum()),
        "bad_times": int((~finite).sum()),
        "min": float(vv.min()) if len(vv) else math.nan,
        "max": float(vv.max()) if len(vv) else math.nan,
    }
    # longest run of valid samples without a break
    if len(vt):
        first = np.concatenate([[0], np.flatnonzero(breaks) + 1])
        last = np.append(first[1:] - 1, len(vt) - 1)
        row["longest_run_s"] = float((run_end[last] - vt[first]).max())
    else:
        row["longest_run_s"] = 0.0
    for name, (a, b) in windows.items():
        row[f"coverage_{name}"] = window(a - base, b - base) / (b - a)
    return row
