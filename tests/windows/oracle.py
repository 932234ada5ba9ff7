"""The straightforward loop the ``hypotension_art`` recipe reproduces, over vitaldb."""

from __future__ import annotations

import gc
import warnings

import numpy as np


def vitaldb_read(vitaldb, path):
    """``vitaldb.VitalFile(path)``; its reader never closes the file it opens, so the
    ResourceWarning that raises when that file object dies is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        vf = vitaldb.VitalFile(str(path))
        gc.collect()
    return vf


def hypotension_art_oracle(vitaldb, path):
    """vitaldb 1.7.2's grid, then the loop written the plain way: (inputs, labels,
    valid flags, reasons) per window."""
    art = vitaldb_read(vitaldb, path).to_numpy(["SNUADC/ART"], 1 / 100)[:, 0]
    n = len(art)
    inputs, labels, valid, reasons = [], [], [], []
    i = 0
    while i < n - 14000:
        x = art[i : i + 2000]
        y = art[i + 8000 : i + 14000]
        reason = None
        for name, bad in (
            ("nan_fraction", lambda s: np.mean(np.isnan(s)) > 0.1),
            ("above", lambda s: np.any(s > 200)),
            ("below", lambda s: np.any(s < 30)),
            ("peak_to_peak", lambda s: np.max(s) - np.min(s) < 30),
            ("max_jump", lambda s: np.any(np.abs(np.diff(s)) > 30)),
        ):
            if bad(x) or bad(y):
                reason = name
                break
        z = np.where(np.isnan(y), np.float32(0), y)
        c = np.concatenate([np.zeros(1, np.float32), np.cumsum(z, dtype=np.float32)])
        mavg = (c[200:] - c[:-200]) / np.float32(200)
        assert len(mavg) == 5801
        inputs.append(x)
        labels.append(bool(np.nanmax(mavg) < 65))
        valid.append(reason is None)
        reasons.append(reason)
        i += 1000
    arr = np.array(inputs, np.float32).reshape(-1, 2000)
    return arr, np.array(labels, bool), np.array(valid, bool), reasons


def hypotension_map_oracle(vitaldb, path, track="Solar8000/ART_MBP"):
    """The MAP recipe as a plain loop: the first value of each 30 s step, 20 steps in,
    4 steps of lead, 16 steps of prediction; (inputs, labels, valid flags)."""
    import math

    vf = vitaldb_read(vitaldb, path)
    n = math.ceil((vf.dtend - vf.dtstart) / 30)
    steps = np.full(n, np.nan, np.float32)
    seen = set()
    for rec in sorted(vf.trks[track].recs, key=lambda r: r["dt"]):
        k = int((rec["dt"] - vf.dtstart) / 30)
        if 0 <= k < n and k not in seen and rec["val"] == rec["val"]:
            steps[k] = rec["val"]
            seen.add(k)
    inputs, labels, valid = [], [], []
    i = 0
    while i + 40 <= n:
        x, y = steps[i : i + 20], steps[i + 24 : i + 40]
        bad = np.isnan(x) | (x < 40) | (x > 150)
        valid.append(bool(np.mean(bad) <= 0.2))
        low = y < 65
        labels.append(any(low[j] and low[j + 1] for j in range(len(low) - 1)))
        inputs.append(x)
        i += 1
    return np.array(inputs, np.float32).reshape(-1, 20), np.array(labels), np.array(valid)


def rhythm_oracle(rows, offsets, length=30.0, bad=("noise", "artifact", "bad_quality")):
    """Each window's class and validity from (time, class) rows, by plain interval
    arithmetic: one class covering all of it, no bad class inside."""
    rows = sorted(rows)
    out = []
    for s in offsets:
        e = s + length
        inside = set()
        for j, (t, c) in enumerate(rows):
            end = rows[j + 1][0] if j + 1 < len(rows) else float("inf")
            if t < e and end > s:
                inside.add(c)
        covered = rows and rows[0][0] <= s
        ok = len(inside) == 1 and covered and not inside & set(bad)
        out.append((min(inside) if len(inside) == 1 else None, ok))
    return out
