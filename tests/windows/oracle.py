"""The straightforward loop the ``hypotension_art`` recipe reproduces, over vitaldb."""
from __future__ import annotations

import numpy as np


def hypotension_art_oracle(vitaldb, path):
    """vitaldb 1.7.2's grid, then the loop written the plain way: (inputs, labels,
    valid flags, reasons) per window."""
    art = vitaldb.VitalFile(str(path)).to_numpy(["SNUADC/ART"], 1 / 100)[:, 0]
    n = len(art)
    inputs, labels, valid, reasons = [], [], [], []
    i = 0
    while i < n - 14000:
        x = art[i:i + 2000]
        y = art[i + 8000:i + 14000]
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
